import { CgroupError } from '../errors.js';

/**
 * Polls the kernel's report until `done` says the freezer reached its state. v1 has no event for
 * it (freezer.state reads FREEZING until every task stopped), v2's cgroup.events is read the same
 * way for one code path. The delay doubles from 1 ms to 50 ms; `timeoutMs` bounds a freeze that a
 * task in uninterruptible sleep can hold up.
 */
export async function untilFrozenState(path: string, want: string, step: () => Promise<string | undefined>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    last = await step();
    if (last === want) return;
    if (last === undefined) throw new CgroupError('freeze', path, 'no such cgroup (is the container running?)');
    if (Date.now() > deadline) throw new CgroupError('wait for', path, `still ${last} after ${timeoutMs} ms, not ${want}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
