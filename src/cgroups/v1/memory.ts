import { join } from 'node:path';
import { describe } from '../../errors.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

/**
 * v1 memory: limits of Corral's subtree only count for the containers below it with
 * memory.use_hierarchy=1. Kernels since 5.x always report 1 (and refuse 0); older ones need it set
 * before the first child exists. Failing to set it is a warning, not an error.
 */
export async function ensureMemoryHierarchy(dir: string, log: (message: string) => void): Promise<void> {
  const file = join(dir, 'memory.use_hierarchy');
  const current = await readCgroupFile(file).catch(() => undefined);
  if (current === undefined || current === '1') return;
  try {
    await writeCgroupFile(file, '1');
  } catch (err) {
    log(`memory limits of ${dir} will not cover its children: ${describe(err)}`);
  }
}
