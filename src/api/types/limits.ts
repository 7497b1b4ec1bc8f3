import type { LimitName } from '../limit-keys.js';

/*
 * Limits in kernel terms and what became of them. They are API data (config.json keeps the
 * Limits, inspect shows the AppliedSettings), so they live here; src/cgroups applies them and
 * holds the conversions between v1's and v2's scales.
 */

export type { LimitName, LimitRequest, LimitRequestKey } from '../limit-keys.js';

/**
 * Resource limits in kernel terms, already validated (src/runtime/limits.ts builds them from
 * Docker flags; a manifest parser from Kubernetes quantities). Both drivers apply the same value:
 * v2 natively, v1 through the conversions in src/cgroups/limits.ts. An absent field is left as the kernel has it.
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

/** What one limit became in the kernel: the file written and the value, or why it was skipped. */
export interface AppliedSetting {
  /** A limit's name, or `devices`: the allow-list every container gets (not a flag; cgroups/devices.ts). */
  limit: LimitName | 'devices';
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
