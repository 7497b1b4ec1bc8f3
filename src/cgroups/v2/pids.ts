import { join } from 'node:path';
import { type WantedSetting, writeSetting } from '../controller.js';
import { type AppliedSetting, type Limits, requestedText } from '../limits.js';
import { readCounter, readLimit } from '../stat.js';

/** v2 pids: pids.max (`max` = unlimited). */
export const CONTROLLER = 'pids';

export interface PidsStats {
  current: number;
  limit: number | null;
}

export function wants(limits: Limits): WantedSetting[] {
  const max = limits.pids?.max;
  return max === undefined ? [] : [{ limit: 'pids-limit', requested: requestedText(limits, 'pids-limit', max), file: 'pids.max' }];
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  return Promise.all(wants(limits).map((w) => writeSetting(dir, w, limits.pids!.max)));
}

export async function stats(dir: string): Promise<PidsStats> {
  return { current: await readCounter(join(dir, 'pids.current')), limit: (await readLimit(join(dir, 'pids.max'))) ?? null };
}
