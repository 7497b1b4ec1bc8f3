import type { AppliedSetting, IoThrottleKey, LimitName, Limits } from '../api/types.js';
import { CgroupError } from '../errors.js';

/** The data types are API types (stored in config.json, shown by inspect); re-exported for the drivers. */
export type {
  AppliedSetting,
  CgroupStats,
  CpuLimits,
  CpusetLimits,
  DeviceThrottle,
  IoLimits,
  IoThrottleKey,
  LimitName,
  Limits,
  MemoryLimits,
  PidsLimits,
} from '../api/types.js';

/**
 * The default `pids.max` when none is asked for. Docker leaves it unlimited, so one fork bomb
 * exhausts the host's pid space (32768 on this development machine) and nothing else can start;
 * Podman defaults to 2048 and systemd gives each unit TasksMax=16384 (15 % of its usual pid_max).
 * 4096 is twice Podman's, room for thread-heavy runtimes (JVM, Chromium, parallel builds, where
 * every thread counts), and caps a runaway container at an eighth of a 32768 pid space.
 */
export const DEFAULT_PIDS_LIMIT = 4096;

/** Docker's and Kubernetes' CFS period, 100 ms. */
export const DEFAULT_CPU_PERIOD_US = 100_000;

/** The kernel refuses a CFS quota below 1 ms. */
export const MIN_CPU_QUOTA_US = 1000;

/** Docker refuses memory limits below 6 MiB: a container cannot even start in less. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

/** `--cpus 0.5` → quota 50000 µs per 100000 µs period. */
export function cpusToQuota(cpus: number, periodUs = DEFAULT_CPU_PERIOD_US): { quotaUs: number; periodUs: number } {
  return { quotaUs: Math.round(cpus * periodUs), periodUs };
}

/** Docker cpu-shares (2..262144) → v2 cpu.weight (1..10000), linearly, as runc and crun do. */
export function sharesToWeight(shares: number): number {
  const s = Math.min(Math.max(shares, 2), 262144);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

/** The inverse for v1: the smallest share count whose weight is `weight`, so the pair round-trips. */
export function weightToShares(weight: number): number {
  const w = Math.min(Math.max(weight, 1), 10000);
  return 2 + Math.ceil(((w - 1) * 262142) / 9999);
}

/** Docker blkio-weight (10..1000) → v2 io.weight (1..10000), linearly, as crun does. */
export function blkioToIoWeight(blkio: number): number {
  const b = Math.min(Math.max(blkio, 10), 1000);
  return 1 + Math.floor(((b - 10) * 9999) / 990);
}

/** The inverse, for blkio.weight and io.bfq.weight when only an io.weight is known. */
export function ioToBlkioWeight(weight: number): number {
  const w = Math.min(Math.max(weight, 1), 10000);
  return 10 + Math.ceil(((w - 1) * 990) / 9999);
}

/** Kernel list syntax, `0-2,5` → {0,1,2,5}; undefined when malformed (or a range runs backwards). */
export function parseList(text: string): Set<number> | undefined {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text.trim())) return undefined;
  const out = new Set<number>();
  for (const part of text.trim().split(',')) {
    const [a = 0, b = a] = part.split('-').map(Number);
    if (b < a || b - a > 65536) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

/** Which flag each device throttle key comes from. */
export const THROTTLE_LIMIT: Record<IoThrottleKey, LimitName> = {
  rbps: 'device-read-bps',
  wbps: 'device-write-bps',
  riops: 'device-read-iops',
  wiops: 'device-write-iops',
};

/** The requested text of a limit, or `fallback` (the kernel value) when none was recorded. */
export function requestedText(limits: Limits, limit: LimitName, fallback: string | number): string {
  return limits.requested?.[limit] ?? String(fallback);
}

/** A setting that was not written, with the reason. */
export function skipped(limit: LimitName, requested: string, file: string, reason: string): AppliedSetting {
  return { limit, requested, file, value: '', skipped: reason };
}

/**
 * A limit was asked for but its controller is not available to the container's cgroup. Details
 * carry the limit and the controller for the API's error envelope.
 */
export class ControllerMissingError extends CgroupError {
  constructor(
    readonly limit: LimitName,
    readonly controller: string,
    path: string,
    reason: string,
  ) {
    super(`set ${limit} in`, path, `the ${controller} controller is not available: ${reason}`);
    Object.assign(this, { details: { ...this.details, limit, controller } });
  }
}
