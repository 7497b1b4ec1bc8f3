import { join } from 'node:path';
import { CgroupError, describe } from '../../errors.js';
import { type WantedSetting, writeSetting } from '../controller.js';
import { type AppliedSetting, type Limits, requestedText, skipped } from '../limits.js';
import { hasFile, readCounter, readKeyed, readLimit } from '../stat.js';
import { childCgroups } from '../tree.js';
import type { MemoryStats } from '../v2/memory.js';
import { readCgroupFile, writeCgroupFile } from '../write.js';

/**
 * v1 memory: memory.limit_in_bytes, memory.memsw.limit_in_bytes (memory plus swap, Docker's
 * meaning as is; only with swap accounting) and memory.soft_limit_in_bytes (the reservation).
 * `-1` is unlimited. The kernel keeps memsw >= limit at every write, so the order depends on
 * the direction of the change (runc's setMemoryAndSwap).
 */
export const CONTROLLER = 'memory';
export type { MemoryStats };

const LIMIT = 'memory.limit_in_bytes';
const MEMSW = 'memory.memsw.limit_in_bytes';
const NO_SWAP_ACCOUNTING = `swap limits are unavailable: ${MEMSW} is missing (the kernel has no swap accounting; boot with swapaccount=1)`;

export function wants(limits: Limits): WantedSetting[] {
  const { max, low, swap } = limits.memory ?? {};
  const out: WantedSetting[] = [];
  if (max !== undefined) out.push({ limit: 'memory', requested: requestedText(limits, 'memory', max), file: LIMIT });
  if (swap !== undefined) out.push({ limit: 'memory-swap', requested: requestedText(limits, 'memory-swap', swap), file: MEMSW });
  if (low !== undefined) out.push({ limit: 'memory-reservation', requested: requestedText(limits, 'memory-reservation', low), file: 'memory.soft_limit_in_bytes' });
  return out;
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const { max, low } = limits.memory ?? {};
  let swap = limits.memory?.swap;
  const all = wants(limits);
  let swapWant = all.find((w) => w.file === MEMSW);
  const memsw = await hasFile(join(dir, MEMSW));
  // Lifting the memory limit must lift memsw too, or the kernel refuses the write (runc does this).
  if (max === 'max' && swap === undefined && memsw) {
    swap = 'max';
    swapWant = { limit: 'memory-swap', requested: 'unlimited, with --memory unlimited', file: MEMSW };
  }
  const done: AppliedSetting[] = [];
  const writeMemory = async () => {
    const want = all.find((w) => w.file === LIMIT);
    if (want) done.push(await writeSetting(dir, want, v1(max!)));
  };
  const writeSwap = async () => {
    if (!swapWant) return;
    done.push(memsw ? await writeSetting(dir, swapWant, v1(swap!)) : skipped(swapWant.limit, swapWant.requested, join(dir, MEMSW), NO_SWAP_ACCOUNTING));
  };

  if (max !== undefined && swap !== undefined && memsw) {
    // Raising: memsw first, so the new limit fits under it. Lowering: the limit first, so the new
    // memsw stays above it. Either way each write keeps memsw >= limit.
    const current = await readLimit(join(dir, LIMIT));
    const swapFirst = swap === 'max' || (current !== undefined && current !== null && current < swap);
    for (const step of swapFirst ? [writeSwap, writeMemory] : [writeMemory, writeSwap]) await step();
  } else {
    if (max !== undefined && max !== 'max' && memsw) await refuseAboveMemsw(dir, max);
    await writeMemory();
    await writeSwap();
  }
  const lowWant = all.find((w) => w.limit === 'memory-reservation');
  if (lowWant) done.push(await writeSetting(dir, lowWant, v1(low!)));
  return done;
}

export async function stats(dir: string): Promise<MemoryStats> {
  return {
    usageBytes: await readCounter(join(dir, 'memory.usage_in_bytes')),
    limitBytes: (await readLimit(join(dir, LIMIT))) ?? null,
    oomKills: await oomKills(dir),
    limitHits: await readCounter(join(dir, 'memory.failcnt')),
  };
}

/**
 * v1 counts an OOM kill only in the cgroup whose limit was hit (v2's memory.events covers the
 * subtree), so nested cgroups are added up.
 */
export async function oomKills(dir: string): Promise<number> {
  let n = (await readKeyed(join(dir, 'memory.oom_control'))).get('oom_kill') ?? 0;
  for (const child of await childCgroups(dir)) n += await oomKills(join(dir, child));
  return n;
}

/** Only the limit changes: say why the kernel would refuse it, instead of a bare EINVAL. */
async function refuseAboveMemsw(dir: string, max: number): Promise<void> {
  const current = await readLimit(join(dir, MEMSW));
  if (current === undefined || current === null || max <= current) return;
  throw new CgroupError(
    `write ${max} to`,
    join(dir, LIMIT),
    `above ${MEMSW} (${current}); set memory-swap in the same update (memory+swap must be at least memory)`,
  );
}

const v1 = (n: number | 'max'): number => (n === 'max' ? -1 : n);

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
