import { join } from 'node:path';
import { describe, isErrno } from '../../errors.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';
import { holdsProcesses, procsOf, vacate, type VacateOptions } from './delegate.js';

export interface EnableOptions {
  /** The hierarchy's real root: exempt from the no-internal-process rule; nothing is moved out of it. */
  isRoot: boolean;
  /**
   * When the kernel refuses with EBUSY (`dir` holds processes): move them into the leaf
   * `<dir>/init` and retry (see delegate.ts). Without it, such a cgroup is refused, naming the pids.
   */
  vacate?: VacateOptions;
  log: (message: string) => void;
}

/**
 * Enable `wanted` controllers for the children of `dir` through its cgroup.subtree_control.
 * Returns what the children get.
 *
 * First in one write (`+cpuset +cpu +io ...`, as runc and Docker-in-Docker's entrypoint do): the
 * kernel vets the whole set before enabling any, so a non-root cgroup that holds processes is
 * refused with EBUSY before anything changes. One controller at a time would not be: the threaded
 * controllers (cpuset, cpu, pids) are allowed in a cgroup with processes and make it the root of a
 * threaded subtree, after which memory and io fail with EOPNOTSUPP and no child can hold a process
 * (measured on 6.1 in a cgroup namespace root). If the single write is refused for another reason
 * (`cpu` while realtime threads exist), the controllers go one at a time, so one refusal does not
 * cost the others; each refusal is logged with the kernel's reason.
 */
export async function enableControllers(dir: string, wanted: readonly string[], opts: EnableOptions): Promise<string[]> {
  const file = join(dir, 'cgroup.subtree_control');
  const enabled = new Set(((await readCgroupFile(file)) ?? '').split(/\s+/).filter(Boolean));
  const todo = wanted.filter((c) => !enabled.has(c));
  if (todo.length === 0) return [...wanted];
  for (let attempt = 1; ; attempt++) {
    const err = await tryWrite(file, todo.map((c) => `+${c}`).join(' '));
    if (!err) return [...wanted];
    const busy = !opts.isRoot && isErrno(err, 'EBUSY');
    if (busy && opts.vacate && attempt <= 3) {
      await vacate(dir, opts.vacate);
      continue;
    }
    if (busy) await refuseInternalProcesses(dir);
    break;
  }
  for (const c of todo) {
    const err = await tryWrite(file, `+${c}`);
    if (err) opts.log(`controller ${c} not enabled for children of ${dir}: ${describe(err)}`);
    else enabled.add(c);
  }
  return wanted.filter((c) => enabled.has(c));
}

/** The write's cause (errno and the C library's wording) when the kernel refuses it. */
async function tryWrite(file: string, value: string): Promise<Error | undefined> {
  try {
    await writeCgroupFile(file, value);
    return undefined;
  } catch (err) {
    return ((err as Error).cause as Error | undefined) ?? (err as Error);
  }
}

/** cgroup v2's no-internal-process rule: a cgroup that hands controllers to children holds no processes. */
async function refuseInternalProcesses(dir: string): Promise<void> {
  const procs = await procsOf(dir);
  if (procs.length > 0) throw holdsProcesses(dir, procs);
}
