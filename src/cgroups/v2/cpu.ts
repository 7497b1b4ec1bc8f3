import { join } from 'node:path';
import { type WantedSetting, writeSetting } from '../controller.js';
import { DEFAULT_CPU_PERIOD_US, type AppliedSetting, type Limits, requestedText, sharesToWeight } from '../limits.js';
import { readKeyed } from '../stat.js';

/** v2 cpu: cpu.max `QUOTA PERIOD` (`max` = no cap) and cpu.weight. */
export const CONTROLLER = 'cpu';

export interface CpuStats {
  usageNs: number;
}

export function wants(limits: Limits): WantedSetting[] {
  const out: WantedSetting[] = [];
  const max = cpuMax(limits);
  if (max !== undefined) out.push({ limit: 'cpus', requested: requestedText(limits, 'cpus', max), file: 'cpu.max' });
  const weight = cpuWeight(limits);
  if (weight !== undefined) out.push({ limit: 'cpu-weight', requested: requestedText(limits, 'cpu-weight', weight), file: 'cpu.weight' });
  return out;
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const done: AppliedSetting[] = [];
  for (const w of wants(limits)) done.push(await writeSetting(dir, w, w.file === 'cpu.max' ? cpuMax(limits)! : cpuWeight(limits)!));
  return done;
}

export async function stats(dir: string): Promise<CpuStats> {
  const stat = await readKeyed(join(dir, 'cpu.stat'));
  return { usageNs: (stat.get('usage_usec') ?? 0) * 1000 };
}

function cpuMax(limits: Limits): string | undefined {
  const quota = limits.cpu?.quotaUs;
  return quota === undefined ? undefined : `${quota} ${limits.cpu?.periodUs ?? DEFAULT_CPU_PERIOD_US}`;
}

function cpuWeight(limits: Limits): number | undefined {
  const { weight, shares } = limits.cpu ?? {};
  return weight ?? (shares === undefined ? undefined : sharesToWeight(shares));
}
