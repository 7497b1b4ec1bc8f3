import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Everything of one Corral installation that could outlive a test, found from the kernel. */
export interface Leaks {
  processes: string[];
  mounts: string[];
  cgroups: string[];
  stateDirs: string[];
}

export function findLeaks(o: { dataRoot: string; runRoot: string; cgroupParent: string; cgroupRoot?: string; ignorePids?: number[] }): Leaks {
  const cgroupRoot = o.cgroupRoot ?? '/sys/fs/cgroup';
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (o.ignorePids?.includes(Number(pid))) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmd.includes(o.dataRoot) || cmd.includes(o.runRoot)) processes.push(`${pid}: ${cmd.trim()}`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(o.dataRoot) || l.includes(o.runRoot));
  const cgroups: string[] = [];
  for (const h of existsSync(cgroupRoot) ? readdirSync(cgroupRoot) : []) {
    const parent = join(cgroupRoot, h, o.cgroupParent);
    const candidates = existsSync(join(cgroupRoot, 'cgroup.controllers')) ? [join(cgroupRoot, o.cgroupParent)] : [parent];
    for (const p of candidates) {
      if (!existsSync(p)) continue;
      for (const child of readdirSync(p)) if (statSync(join(p, child)).isDirectory()) cgroups.push(join(p, child));
    }
  }
  const containers = join(o.dataRoot, 'containers');
  const stateDirs = existsSync(containers) ? readdirSync(containers).map((d) => join(containers, d)) : [];
  return { processes, mounts, cgroups: [...new Set(cgroups)], stateDirs };
}

export function describeLeaks(l: Leaks): string | undefined {
  const parts = Object.entries(l)
    .filter(([, v]) => (v as string[]).length > 0)
    .map(([k, v]) => `${k}:\n  ${(v as string[]).join('\n  ')}`);
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/** A content hash of a directory tree (names, modes, sizes, link targets, file bytes). */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      h.update(`${p}\0${st.mode}\0${st.size}\0`);
      if (st.isSymbolicLink()) h.update(readlinkSync(p));
      else if (st.isDirectory()) walk(p);
      else if (st.isFile()) h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}
