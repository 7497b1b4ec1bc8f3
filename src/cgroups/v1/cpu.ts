import { join } from 'node:path';
import { CgroupError, isErrno } from '../../errors.js';
import { type WantedSetting, writeSetting } from '../controller.js';
import { DEFAULT_CPU_PERIOD_US, type AppliedSetting, type Limits, requestedText, weightToShares } from '../limits.js';
import { readCounter } from '../stat.js';
import type { CpuStats } from '../v2/cpu.js';

/**
 * v1 cpu: cpu.cfs_period_us then cpu.cfs_quota_us (`-1` = no cap), and cpu.shares. Usage comes
 * from the cpuacct hierarchy (cpuacct.usage, ns), which may be mounted apart from cpu.
 */
export const CONTROLLER = 'cpu';
export const STATS_CONTROLLER = 'cpuacct';
export type { CpuStats };

export function wants(limits: Limits): WantedSetting[] {
  const out: WantedSetting[] = [];
  const { quotaUs } = limits.cpu ?? {};
  if (quotaUs !== undefined) {
    const requested = requestedText(limits, 'cpus', `${quotaUs} ${periodOf(limits)}`);
    out.push({ limit: 'cpus', requested, file: 'cpu.cfs_period_us' }, { limit: 'cpus', requested, file: 'cpu.cfs_quota_us' });
  }
  const shares = sharesOf(limits);
  if (shares !== undefined) out.push({ limit: 'cpu-weight', requested: requestedText(limits, 'cpu-weight', shares), file: 'cpu.shares' });
  return out;
}

export async function apply(dir: string, limits: Limits): Promise<AppliedSetting[]> {
  const all = wants(limits);
  const period = all.find((w) => w.file === 'cpu.cfs_period_us');
  const quota = all.find((w) => w.file === 'cpu.cfs_quota_us');
  const shares = all.find((w) => w.file === 'cpu.shares');
  const done: AppliedSetting[] = [];
  if (period && quota) {
    const q = limits.cpu!.quotaUs === 'max' ? -1 : limits.cpu!.quotaUs!;
    try {
      done.push(await writeSetting(dir, period, periodOf(limits)));
      done.push(await writeSetting(dir, quota, q));
    } catch (err) {
      // A shorter period can make the quota in force exceed what the kernel allows (runc retries
      // the same way): quota first, then period.
      if (done.length > 0 || !isErrno((err as CgroupError).cause, 'EINVAL')) throw err;
      done.push(await writeSetting(dir, quota, q));
      done.push(await writeSetting(dir, period, periodOf(limits)));
    }
  }
  if (shares) done.push(await writeSetting(dir, shares, sharesOf(limits)!));
  return done;
}

/** `dir` is the container's cgroup in the cpuacct hierarchy. */
export async function stats(dir: string): Promise<CpuStats> {
  return { usageNs: await readCounter(join(dir, 'cpuacct.usage')) };
}

function periodOf(limits: Limits): number {
  return limits.cpu?.periodUs ?? DEFAULT_CPU_PERIOD_US;
}

/** Docker shares as given, else the weight converted back. */
function sharesOf(limits: Limits): number | undefined {
  const { weight, shares } = limits.cpu ?? {};
  return shares ?? (weight === undefined ? undefined : weightToShares(weight));
}
