import { join } from 'node:path';
import { untilFrozenState } from '../freeze-wait.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

/**
 * The v1 freezer (Docker's pause on v1 hosts). freezer.state is hierarchical: FROZEN on the
 * container's cgroup stops every task below it. The state reads FREEZING until the kernel has
 * stopped them all; FROZEN is written again meanwhile, as runc does, since a task forked during
 * the freeze can leave it stuck in FREEZING.
 */
export const CONTROLLER = 'freezer';

export async function freeze(dir: string, timeoutMs: number): Promise<void> {
  const file = join(dir, 'freezer.state');
  try {
    await untilFrozenState(file, 'FROZEN', async () => {
      await writeCgroupFile(file, 'FROZEN');
      return readCgroupFile(file);
    }, timeoutMs);
  } catch (err) {
    // A freeze that did not complete is undone: half-frozen is nobody's state.
    await writeCgroupFile(file, 'THAWED').catch(() => {});
    throw err;
  }
}

export async function thaw(dir: string, timeoutMs: number): Promise<void> {
  const file = join(dir, 'freezer.state');
  await writeCgroupFile(file, 'THAWED');
  await untilFrozenState(file, 'THAWED', () => readCgroupFile(file), timeoutMs);
}

/** FROZEN as the kernel reports it; FREEZING (a freeze under way) is not frozen yet. */
export async function frozen(dir: string): Promise<boolean> {
  return (await readCgroupFile(join(dir, 'freezer.state'))) === 'FROZEN';
}
