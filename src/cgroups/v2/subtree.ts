import { join } from 'node:path';
import { CgroupError, describe, isErrno } from '../../errors.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

export interface EnableOptions {
  /** The hierarchy's root is exempt from the no-internal-process rule. */
  isRoot: boolean;
  log: (message: string) => void;
}

/**
 * Enable `wanted` controllers for the children of `dir` by writing `+name` to its
 * cgroup.subtree_control, one at a time so one refusal (for example `cpu` while realtime threads
 * exist) does not cost the others; each refusal is logged with the kernel's reason. Returns what
 * the children get.
 */
export async function enableControllers(dir: string, wanted: readonly string[], opts: EnableOptions): Promise<string[]> {
  const file = join(dir, 'cgroup.subtree_control');
  const enabled = new Set(((await readCgroupFile(file)) ?? '').split(/\s+/).filter(Boolean));
  const todo = wanted.filter((c) => !enabled.has(c));
  if (todo.length > 0 && !opts.isRoot) await refuseInternalProcesses(dir);
  for (const c of todo) {
    try {
      await writeCgroupFile(file, `+${c}`);
      enabled.add(c);
    } catch (err) {
      if (!opts.isRoot && isErrno((err as Error).cause, 'EBUSY')) await refuseInternalProcesses(dir);
      opts.log(`controller ${c} not enabled for children of ${dir}: ${describe((err as Error).cause ?? err)}`);
    }
  }
  return wanted.filter((c) => enabled.has(c));
}

/** cgroup v2's no-internal-process rule: a cgroup that hands controllers to children holds no processes. */
async function refuseInternalProcesses(dir: string): Promise<void> {
  const procs = ((await readCgroupFile(join(dir, 'cgroup.procs'))) ?? '').split(/\s+/).filter(Boolean);
  if (procs.length === 0) return;
  throw new CgroupError(
    'enable controllers in',
    dir,
    `it holds processes (${procs.slice(0, 10).join(' ')}${procs.length > 10 ? ' ...' : ''}); cgroup v2 allows controllers only ` +
      'for cgroups without processes of their own: move them into a leaf cgroup (run corrald under a delegated unit)',
  );
}
