import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CgroupError, isErrno } from '../../errors.js';
import { makeCgroupDir } from '../tree.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

/**
 * cgroup v2's no-internal-process rule: a cgroup other than the root that holds processes cannot
 * enable controllers for its children (the kernel answers EBUSY). Inside privileged Docker with a
 * private cgroup namespace, the namespace root Corral sees at /sys/fs/cgroup already holds the
 * container's PID 1 (and corrald); Docker-in-Docker entrypoints move those processes into a leaf
 * named `init` before enabling controllers, and so does Corral.
 */

/** The leaf that processes are moved into (Docker-in-Docker's name). Never a container id. */
export const LEAF = 'init';

/**
 * True for the hierarchy's real root, which is exempt from the rule: it has no `cgroup.type`
 * (a file on every other cgroup, a cgroup namespace root included). Kernels before 4.14 have no
 * `cgroup.type` at all; there every mount root counts as the real root and nothing is moved.
 */
export async function isRealRoot(dir: string): Promise<boolean> {
  return (await readCgroupFile(join(dir, 'cgroup.type'))) === undefined;
}

/** Pids in `dir`'s own cgroup.procs (not its children's). */
export async function procsOf(dir: string): Promise<number[]> {
  const text = (await readCgroupFile(join(dir, 'cgroup.procs'))) ?? '';
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 0);
}

export interface VacateOptions {
  /**
   * `everyone`: move every process (the namespace root Corral was started in: they belong to the
   * container Corral runs in, as with Docker's PID 1). `self`: move corrald only, and refuse when
   * other processes are there (a cgroup of Corral's own subtree; someone else's processes).
   */
  move: 'everyone' | 'self';
  /** corrald's pid. */
  selfPid: number;
  /** Where process names are read for the log (`<proc>/<pid>/comm`); default `/proc`. */
  procDir?: string;
  log: (message: string) => void;
}

/**
 * Empty `dir` of processes by moving them into the leaf `<dir>/init`, so that controllers can be
 * enabled for its children. Call it only after the kernel refused a cgroup.subtree_control write
 * with EBUSY, and never for the real root. Processes that fork while being moved leave children
 * behind, so it repeats until the cgroup is empty (a few rounds at most); pids that exit meanwhile
 * are skipped. Logs what it moved.
 */
export async function vacate(dir: string, opts: VacateOptions): Promise<void> {
  const leaf = join(dir, LEAF);
  const moved: string[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      const procs = await procsOf(dir);
      if (procs.length === 0) break;
      const others = opts.move === 'self' ? procs.filter((p) => p !== opts.selfPid) : [];
      if (others.length > 0) throw holdsProcesses(dir, others);
      await makeCgroupDir(leaf);
      for (const pid of procs) {
        const name = await comm(opts.procDir ?? '/proc', pid);
        try {
          await writeCgroupFile(join(leaf, 'cgroup.procs'), pid);
        } catch (err) {
          if (isErrno((err as Error).cause, 'ESRCH')) continue; // exited meanwhile
          throw err;
        }
        moved.push(`${pid}${name ? ` (${name})` : ''}${pid === opts.selfPid ? ' (corrald)' : ''}`);
      }
    }
  } finally {
    // Said even when a later move failed: what was moved stays moved.
    if (moved.length > 0) {
      opts.log(
        `moved ${moved.length} process${moved.length === 1 ? '' : 'es'} out of ${dir} into the leaf ${leaf}: ${moved.join(', ')}; ` +
          'cgroup v2 enables controllers for children only in a cgroup without processes of its own',
      );
    }
  }
  const left = await procsOf(dir);
  if (left.length > 0) throw holdsProcesses(dir, left);
}

/** The error for a cgroup whose processes Corral may not (or could not) move. */
export function holdsProcesses(dir: string, pids: readonly number[]): CgroupError {
  return new CgroupError(
    'enable controllers in',
    dir,
    `it holds processes (${pids.slice(0, 10).join(' ')}${pids.length > 10 ? ' ...' : ''}); cgroup v2 allows controllers only ` +
      'for cgroups without processes of their own: move them into a leaf cgroup (run corrald under a delegated unit)',
  );
}

async function comm(procDir: string, pid: number): Promise<string | undefined> {
  try {
    return (await readFile(join(procDir, String(pid), 'comm'), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}
