import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

/**
 * What a CPU quota did over a stretch of wall time, in the kernel's words: CPU used (cpuacct.usage
 * on v1, cpu.stat usage_usec on v2) and the CFS periods in which the cgroup ran out of quota
 * (cpu.stat nr_periods / nr_throttled, on the cgroup that holds the quota).
 */
export interface QuotaSample {
  /** CPUs used on average: 0.5 is half a CPU. */
  share: number;
  periods: number;
  throttled: number;
}

function cpuStat(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(join(dir, 'cpu.stat'), 'utf8').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v) out[k] = Number(v);
  }
  return out;
}

/** `dirs`: the container's cgroup directories (inspect's cgroup.paths, or the manager's paths). */
export async function sampleQuota(dirs: readonly string[], ms: number): Promise<QuotaSample> {
  const usageDir = dirs.find((p) => existsSync(join(p, 'cpuacct.usage'))) ?? dirs.find((p) => existsSync(join(p, 'cpu.max')));
  // The quota sits on the container's cgroup, its processes in a child: look at both levels.
  const candidates = [...dirs, ...dirs.map((d) => dirname(d))];
  const limited = (d: string): boolean =>
    existsSync(join(d, 'cpu.cfs_quota_us')) ? readFileSync(join(d, 'cpu.cfs_quota_us'), 'utf8').trim() !== '-1' : existsSync(join(d, 'cpu.max')) && !readFileSync(join(d, 'cpu.max'), 'utf8').startsWith('max');
  const quotaDir = candidates.find(limited) ?? dirs.find((p) => existsSync(join(p, 'cpu.stat')));
  if (!usageDir || !quotaDir) throw new Error(`no cpu usage or quota file under ${dirs.join(', ')}`);
  const usage = (): number => (existsSync(join(usageDir, 'cpuacct.usage')) ? Number(readFileSync(join(usageDir, 'cpuacct.usage'), 'utf8')) / 1e9 : cpuStat(usageDir).usage_usec! / 1e6);
  const u0 = usage();
  const s0 = cpuStat(quotaDir);
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, ms));
  const u1 = usage();
  const s1 = cpuStat(quotaDir);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { share: (u1 - u0) / seconds, periods: s1.nr_periods! - s0.nr_periods!, throttled: s1.nr_throttled! - s0.nr_throttled! };
}

/**
 * A busy loop under a quota of `cpus` never gets more than the quota (±0.05). "At least the
 * quota" is asked only when the kernel says the quota ran out in nearly every CFS period; on a
 * host busy with other work the loop is starved below its quota (no period throttled), and then
 * only the upper bound says anything: without the limit a quiet host gives the loop a whole CPU.
 */
export function expectQuotaHolds(s: QuotaSample, cpus: number): void {
  expect(s.share).toBeLessThan(cpus + 0.05);
  if (s.periods > 0 && s.throttled / s.periods >= 0.9) expect(s.share).toBeGreaterThan(cpus - 0.05);
  else console.log(`the host starved the loop below its quota (${s.share.toFixed(3)} of a CPU, throttled in ${s.throttled} of ${s.periods} periods): only the upper bound is checked`);
}
