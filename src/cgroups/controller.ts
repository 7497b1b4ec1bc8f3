import { join } from 'node:path';
import type { AppliedSetting, LimitName, Limits } from './limits.js';
import { writeCgroupFile } from './write.js';

/** A setting a controller would make: the limit, what the user asked for, the control file's name. */
export interface WantedSetting {
  limit: LimitName;
  requested: string;
  file: string;
}

/**
 * The shape every controller file has (`v2/memory.ts`, `v1/blkio.ts`, ...), imported as a module
 * namespace: which kernel controller it needs, which of the limits it carries, how it writes them
 * and how it reads usage back. `apply` writes only what `limits` sets and returns what it wrote.
 */
export interface ControllerModule<S> {
  /** The kernel controller the limits need (`memory`; `blkio` on v1, `io` on v2). */
  readonly CONTROLLER: string;
  /** Where stats() reads when that is another v1 hierarchy (`cpuacct` for `cpu`). */
  readonly STATS_CONTROLLER?: string;
  /** Pure: the settings `limits` asks of this controller (used to report a missing controller). */
  wants(limits: Limits): WantedSetting[];
  apply(dir: string, limits: Limits): Promise<AppliedSetting[]>;
  stats(dir: string): Promise<S>;
}

/** Every wanted setting of `mod`, skipped with `reason` (its controller is missing and that was allowed). */
export function skippedAll(mod: ControllerModule<unknown>, limits: Limits, reason: string): AppliedSetting[] {
  return mod.wants(limits).map((w) => ({ ...w, value: '', skipped: reason }));
}

/** Write one wanted setting into `dir` (through the one write helper) and report it. */
export async function writeSetting(dir: string, want: WantedSetting, value: string | number): Promise<AppliedSetting> {
  const file = join(dir, want.file);
  await writeCgroupFile(file, value);
  return { limit: want.limit, requested: want.requested, file, value: String(value) };
}
