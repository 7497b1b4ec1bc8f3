import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ContainerConfig, IsolationInfo } from '../../api/types.js';
import { seccompFilterFile, UNCONFINED_SECCOMP } from '../../security/seccomp.js';

/** The `inside outside count` line of a map, as /proc/PID/uid_map has it, spaces collapsed. */
const mapLine = (text: string): string => text.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')).join('\n');

/** `Seccomp:`, `Seccomp_filters:` and `NoNewPrivs:` of /proc/PID/status. */
export function parseStatusIsolation(status: string): { mode: number; filters: number; noNewPrivs: boolean } {
  const field = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)$`, 'm').exec(status)?.[1] ?? 0);
  return { mode: field('Seccomp'), filters: field('Seccomp_filters'), noNewPrivs: field('NoNewPrivs') === 1 };
}

/**
 * inspect's isolation section: the config's word, and while PID 1 runs (`pid`), the kernel's.
 * `dir` is the container's directory (its seccomp.bpf); `processes` its cgroup namespace root(s).
 */
export async function isolationOf(c: ContainerConfig, dir: string, pid: number | null, processes: string[], procRoot = '/proc'): Promise<IsolationInfo> {
  const u = c.userns;
  const uidMap = u.mode === 'private' ? `0 ${u.uidBase} ${u.size}` : '0 0 4294967295';
  const gidMap = u.mode === 'private' ? `0 ${u.gidBase} ${u.size}` : '0 0 4294967295';
  const seccomp = c.seccomp ?? UNCONFINED_SECCOMP;
  const bpf = seccompFilterFile(dir, c);
  const filterSha256 = bpf ? await readFile(bpf).then((b) => createHash('sha256').update(b).digest('hex'), () => null) : null;
  const read = (f: string): Promise<string | null> => (pid === null ? Promise.resolve(null) : readFile(`${procRoot}/${pid}/${f}`, 'utf8').catch(() => null));
  const [uid, gid, status] = await Promise.all([read('uid_map'), read('gid_map'), read('status')]);
  const st = status === null ? null : parseStatusIsolation(status);
  return {
    userns: { mode: u.mode, uidMap, gidMap, inForce: uid !== null && gid !== null ? { uidMap: mapLine(uid), gidMap: mapLine(gid) } : null },
    seccomp: { profile: seccomp.profile, source: seccomp.source, sha256: seccomp.sha256, filterSha256, inForce: st ? { mode: st.mode, filters: st.filters } : null },
    capabilities: c.capabilities,
    noNewPrivileges: true,
    noNewPrivilegesInForce: st ? st.noNewPrivs : null,
    cgroupNamespaceRoot: processes,
  };
}
