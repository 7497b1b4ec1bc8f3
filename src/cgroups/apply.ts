import { type ControllerModule, skippedAll } from './controller.js';
import { type AppliedSetting, type CgroupStats, ControllerMissingError, type Limits } from './limits.js';
import type { ApplyOptions } from './manager.js';

/** A controller module with where it lives for one container: its directory, or why it has none. */
export interface Placed {
  mod: ControllerModule<unknown>;
  dir: string | undefined;
  /** Set when the controller is not available to the container. */
  missing?: string;
  /** Where to say it is missing when there is no directory (v1: the hierarchy's would-be mount point). */
  where?: string;
}

/**
 * The driver-independent part of apply(): refuse (or mark skipped) limits whose controller is
 * missing before anything is written, then let each controller write its files in turn.
 */
export async function applyPlaced(placed: readonly Placed[], limits: Limits, opts: ApplyOptions, log: (m: string) => void): Promise<AppliedSetting[]> {
  const out: AppliedSetting[] = [];
  for (const p of placed) {
    const want = p.mod.wants(limits)[0];
    if (!want || p.missing === undefined) continue;
    if (!opts.ignoreMissing) throw new ControllerMissingError(want.limit, p.mod.CONTROLLER, p.dir ?? p.where ?? want.file, p.missing);
  }
  for (const p of placed) {
    if (p.mod.wants(limits).length === 0) continue;
    if (p.missing !== undefined || p.dir === undefined) out.push(...skippedAll(p.mod, limits, `the ${p.mod.CONTROLLER} controller is not available: ${p.missing ?? 'no cgroup'}`));
    else out.push(...(await p.mod.apply(p.dir, limits)));
  }
  for (const s of out) if (s.skipped) log(`${s.limit} ${s.requested} not enforced: ${s.skipped}`);
  return out;
}

/** Stats sections keyed as in CgroupStats, from the modules that are there. */
export type StatsSources = { [K in keyof CgroupStats]?: () => Promise<NonNullable<CgroupStats[K]>> };

export async function collectStats(sources: StatsSources): Promise<CgroupStats> {
  const entries = await Promise.all(Object.entries(sources).map(async ([k, read]) => [k, await read()] as const));
  return Object.fromEntries(entries) as CgroupStats;
}
