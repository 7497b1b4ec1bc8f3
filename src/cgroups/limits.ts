import { CgroupError } from '../errors.js';

/**
 * Resource limits in kernel terms, already validated (src/runtime/limits.ts builds them from
 * Docker flags; a manifest parser from Kubernetes quantities). Both drivers apply the same value:
 * v2 natively, v1 through the conversions below. An absent field is left as the kernel has it.
 * `'max'` means unlimited: written `max` on v2 and `-1` on v1 (`max` for v1 pids.max, which takes
 * nothing else).
 */
export interface Limits {
  cpu?: CpuLimits;
  cpuset?: CpusetLimits;
  memory?: MemoryLimits;
  pids?: PidsLimits;
  io?: IoLimits;
  /**
   * What the user wrote for each limit (`--memory 512m`, `cpu: 500m`), echoed in
   * AppliedSetting.requested; without it the kernel value is shown.
   */
  requested?: Partial<Record<LimitName, string>>;
}

export interface CpuLimits {
  /** CFS bandwidth quota in µs per period (`--cpus 0.5` → 50000); written only when set. */
  quotaUs?: number | 'max';
  /** CFS period in µs, 1000..1000000; default 100000 (100 ms) as Docker and Kubernetes use. */
  periodUs?: number;
  /** Relative weight on the cgroup v2 scale 1..10000 (v2 default 100). */
  weight?: number;
  /**
   * Docker `--cpu-shares` as given (2..262144), so v1 writes cpu.shares unchanged instead of
   * round-tripping through `weight` (which maps 262143 share values onto 10000 weights).
   */
  shares?: number;
}

export interface CpusetLimits {
  /** CPU list in kernel syntax, `0-1,3`. */
  cpus?: string;
  /** Memory node list, `0`. */
  mems?: string;
}

export interface MemoryLimits {
  /** Hard limit in bytes (v2 memory.max, v1 memory.limit_in_bytes). */
  max?: number | 'max';
  /** Reservation (`--memory-reservation`): v2 memory.low, v1 memory.soft_limit_in_bytes. */
  low?: number | 'max';
  /**
   * Memory plus swap, Docker's meaning (`--memory-swap`), never below `max`. v1 writes it to
   * memory.memsw.limit_in_bytes as is; v2 writes `swap - max` to memory.swap.max.
   */
  swap?: number | 'max';
}

export interface PidsLimits {
  max: number | 'max';
}

export type IoThrottleKey = 'rbps' | 'wbps' | 'riops' | 'wiops';

/** Throttles of one block device; 'max' removes a throttle. */
export type DeviceThrottle = Partial<Record<IoThrottleKey, number | 'max'>> & {
  /** What the user wrote per key (`/dev/vda:10mb`). */
  requested?: Partial<Record<IoThrottleKey, string>>;
};

export interface IoLimits {
  /** Relative weight on the cgroup v2 io.weight scale 1..10000 (default 100). */
  weight?: number;
  /** Docker `--blkio-weight` as given (10..1000), for blkio.weight / io.bfq.weight, which use that scale. */
  blkioWeight?: number;
  /** Per-device throttles keyed by `major:minor` (`254:0`). */
  devices?: Record<string, DeviceThrottle>;
}

/** One name per user-facing limit, as in Docker's flags. */
export type LimitName =
  | 'cpus'
  | 'cpu-weight'
  | 'cpuset-cpus'
  | 'cpuset-mems'
  | 'memory'
  | 'memory-reservation'
  | 'memory-swap'
  | 'pids-limit'
  | 'blkio-weight'
  | 'device-read-bps'
  | 'device-write-bps'
  | 'device-read-iops'
  | 'device-write-iops'
  /** Not a flag: the devices allow-list every container gets (devices.ts). */
  | 'devices';

/** What one limit became in the kernel: the file written and the value, or why it was skipped. */
export interface AppliedSetting {
  limit: LimitName;
  /** As the user wrote it (`--memory 512m`), or the value in kernel units when not recorded. */
  requested: string;
  /** Absolute path of the control file (just its name when the controller is not there at all). */
  file: string;
  /**
   * Exactly what was written (`50000 100000`, `max`, `-1`); empty when skipped. Several writes of
   * one file (a rule per devices.allow write) are one line each; a v2 device program attached to
   * the cgroup `file` lists the rules it was built from.
   */
  value: string;
  /** Set when nothing was written: the controller or file is missing on this host. */
  skipped?: string;
}

/** Usage read back from the kernel; a section is absent when its controller is. */
export interface CgroupStats {
  cpu?: { usageNs: number };
  memory?: {
    usageBytes: number;
    /** null when unlimited. */
    limitBytes: number | null;
    /** OOM kills in the container (v2 memory.events oom_kill; v1 memory.oom_control oom_kill). */
    oomKills: number;
    /** Times the limit was hit (v2 memory.events max; v1 memory.failcnt). */
    limitHits: number;
  };
  pids?: { current: number; limit: number | null };
  io?: { readBytes: number; writeBytes: number };
}

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
