import { join } from 'node:path';
import { type WantedSetting, writeSetting } from '../controller.js';
import { type AppliedSetting, type Limits, requestedText } from '../limits.js';
import { readCgroupFile } from '../write.js';

/** v2 cpuset: cpuset.cpus and cpuset.mems (empty means "the parent's", so nothing to fill in). */
export const CONTROLLER = 'cpuset';

export interface CpusetStats {
  /** What the container really gets (cpuset.cpus.effective). */
  cpus: string;
  mems: string;
}

export function wants(limits: Limits): WantedSetting[] {
  const { cpus, mems } = limits.cpuset ?? {};
  const out: WantedSetting[] = [];
  if (cpus !== undefined) out.push({ limit: 'cpuset-cpus', requested: requestedText(limits, 'cpuset-cpus', cpus), file: 'cpuset.cpus' });
  if (mems !== undefined) out.push({ limit: 'cpuset-mems', requested: requestedText(limits, 'cpuset-mems', mems), file: 'cpuset.mems' });
  return out;
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const done: AppliedSetting[] = [];
  for (const w of wants(limits)) done.push(await writeSetting(dir, w, w.limit === 'cpuset-cpus' ? limits.cpuset!.cpus! : limits.cpuset!.mems!));
  return done;
}

export async function stats(dir: string): Promise<CpusetStats> {
  return {
    cpus: (await readCgroupFile(join(dir, 'cpuset.cpus.effective'))) ?? '',
    mems: (await readCgroupFile(join(dir, 'cpuset.mems.effective'))) ?? '',
  };
}
