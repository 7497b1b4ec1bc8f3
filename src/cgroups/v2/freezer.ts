import { join } from 'node:path';
import { untilFrozenState } from '../freeze-wait.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

/**
 * The v2 freezer (cgroup.freeze, kernel 5.2+; Docker's pause): writing 1 asks, and the kernel
 * says `frozen 1` in cgroup.events once every task below has stopped.
 */
export async function freeze(dir: string, timeoutMs: number): Promise<void> {
  try {
    await writeCgroupFile(join(dir, 'cgroup.freeze'), '1');
    await untilFrozenState(join(dir, 'cgroup.events'), 'frozen 1', () => eventsFrozen(dir), timeoutMs);
  } catch (err) {
    await writeCgroupFile(join(dir, 'cgroup.freeze'), '0').catch(() => {});
    throw err;
  }
}

export async function thaw(dir: string, timeoutMs: number): Promise<void> {
  await writeCgroupFile(join(dir, 'cgroup.freeze'), '0');
  await untilFrozenState(join(dir, 'cgroup.events'), 'frozen 0', () => eventsFrozen(dir), timeoutMs);
}

export async function frozen(dir: string): Promise<boolean> {
  return (await eventsFrozen(dir)) === 'frozen 1';
}

/** The `frozen N` line of cgroup.events, or undefined without the cgroup (or a pre-5.2 kernel). */
async function eventsFrozen(dir: string): Promise<string | undefined> {
  const events = await readCgroupFile(join(dir, 'cgroup.events'));
  return events?.split('\n').find((l) => l.startsWith('frozen '));
}
