import { join } from 'node:path';
import { CgroupError } from '../../errors.js';
import { type WantedSetting, writeSetting } from '../controller.js';
import { type AppliedSetting, type Limits, requestedText, skipped } from '../limits.js';
import { hasFile, readCounter, readKeyed, readLimit } from '../stat.js';

/**
 * v2 memory: memory.max, memory.low (the reservation) and memory.swap.max. Docker's swap value is
 * memory plus swap, so memory.swap.max gets the difference. The files take any order.
 */
export const CONTROLLER = 'memory';

export interface MemoryStats {
  usageBytes: number;
  limitBytes: number | null;
  oomKills: number;
  /** memory.events `max`: times usage hit memory.max. */
  limitHits: number;
}

export function wants(limits: Limits): WantedSetting[] {
  const { max, low, swap } = limits.memory ?? {};
  const out: WantedSetting[] = [];
  if (max !== undefined) out.push({ limit: 'memory', requested: requestedText(limits, 'memory', max), file: 'memory.max' });
  if (swap !== undefined) out.push({ limit: 'memory-swap', requested: requestedText(limits, 'memory-swap', swap), file: 'memory.swap.max' });
  if (low !== undefined) out.push({ limit: 'memory-reservation', requested: requestedText(limits, 'memory-reservation', low), file: 'memory.low' });
  return out;
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const m = limits.memory ?? {};
  const done: AppliedSetting[] = [];
  for (const w of wants(limits)) {
    if (w.file === 'memory.max') done.push(await writeSetting(dir, w, m.max!));
    else if (w.file === 'memory.low') done.push(await writeSetting(dir, w, m.low!));
    else if (!(await hasFile(join(dir, w.file)))) {
      done.push(skipped(w.limit, w.requested, join(dir, w.file), 'swap limits are unavailable: the kernel has no swap accounting (memory.swap.max is missing)'));
    } else done.push(await writeSetting(dir, w, await swapMax(dir, m.max, m.swap!)));
  }
  return done;
}

export async function stats(dir: string): Promise<MemoryStats> {
  const events = await readKeyed(join(dir, 'memory.events'));
  return {
    usageBytes: await readCounter(join(dir, 'memory.current')),
    limitBytes: (await readLimit(join(dir, 'memory.max'))) ?? null,
    oomKills: events.get('oom_kill') ?? 0,
    limitHits: events.get('max') ?? 0,
  };
}

/** memory.events counts the whole subtree (unless the memory_localevents mount option says otherwise). */
export async function oomKills(dir: string): Promise<number> {
  return (await readKeyed(join(dir, 'memory.events'))).get('oom_kill') ?? 0;
}

/** Swap alone = (memory + swap) - memory; memory comes from the same update or from memory.max. */
async function swapMax(dir: string, max: number | 'max' | undefined, swap: number | 'max'): Promise<number | 'max'> {
  if (swap === 'max') return 'max';
  const memory = max ?? (await readLimit(join(dir, 'memory.max'))) ?? 'max';
  if (memory === 'max') {
    throw new CgroupError(`set memory-swap ${swap} in`, dir, 'memory is unlimited; a memory+swap total needs a memory limit too');
  }
  if (swap < memory) throw new CgroupError(`set memory-swap ${swap} in`, dir, `below the memory limit ${memory}; memory+swap must be at least memory`);
  return swap - memory;
}
