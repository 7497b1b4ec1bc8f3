import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError, isErrno } from '../errors.js';
import { cgroupError, readCgroupFile } from './write.js';

/**
 * The child of a container's cgroup that holds its processes; the limits are written on the
 * container's cgroup itself, above it. The container's cgroup namespace is rooted here, so what it
 * can see and write of its own cgroups never includes the limits that hold it (LXC's
 * lxc.cgroup.dir.container.inner, Docker-in-Docker's and systemd's parent/leaf split).
 */
export const PAYLOAD = 'payload';

/** A container's cgroup is one path component: no slashes, no `.`/`..`, nothing hidden. */
const CGROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkCgroupName(id: string): string {
  if (!CGROUP_NAME.test(id)) {
    throw new ValidationError(`invalid cgroup name ${JSON.stringify(id)}: use [A-Za-z0-9_.-], starting with a letter or digit`, { id });
  }
  return id;
}

/** Split Corral's parent (`corral`, or `a/b`) into checked path components. */
export function parentComponents(parent: string): string[] {
  const parts = parent.split('/').filter(Boolean);
  if (parts.length === 0) throw new ValidationError('cgroup parent must not be empty: Corral needs a subtree of its own');
  for (const p of parts) checkCgroupName(p);
  return parts;
}

/** mkdir one cgroup; true when it was created, false when it existed already. */
export async function makeCgroupDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw cgroupError('create', dir, err);
  }
}

/** Names of the child cgroups (directories) of `dir`; none when `dir` does not exist. */
export async function childCgroups(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw cgroupError('list', dir, err);
  }
}

/** Pids in `dir`'s cgroup.procs and in every nested cgroup below it, sorted, without repeats. */
export async function collectPids(dirs: readonly string[]): Promise<number[]> {
  const seen = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    const text = await readCgroupFile(join(dir, 'cgroup.procs'));
    for (const line of (text ?? '').split('\n')) {
      const pid = Number(line);
      if (line !== '' && Number.isInteger(pid) && pid > 0) seen.add(pid);
    }
    for (const child of await childCgroups(dir)) await walk(join(dir, child));
  };
  for (const dir of dirs) await walk(dir);
  return [...seen].sort((a, b) => a - b);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
