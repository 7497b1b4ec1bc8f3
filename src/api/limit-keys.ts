/**
 * The one table of resource limits a user can ask for. Every other list of them is derived from
 * it: the API's LimitRequest, corrald's shape check (src/runtime/spec.ts), the CLI's flags
 * (src/cli/limit-flags.ts), the manifest's keys (src/manifest/spec.ts) and the kernel-side limit
 * names an AppliedSetting reports (LimitName). It lives in src/api, the top of the layering, so
 * every module can import it.
 */

/**
 * How a value is written: `quantity` a string or a number (`512m`, 2), `text` a string (a CPU
 * list), `list` repeatable `PATH:RATE` strings.
 */
export type LimitKind = 'quantity' | 'text' | 'list';

export interface LimitKey {
  /** The field in LimitRequest (API bodies, config.json's limitRequest); commander's name of the flag. */
  readonly key: string;
  /** Docker's flag. */
  readonly flag: `--${string}`;
  /** A one-letter alias (`-m`). */
  readonly short?: `-${string}`;
  readonly kind: LimitKind;
  /** Placeholder of the flag's argument in --help. */
  readonly arg: string;
  readonly help: string;
  /**
   * Where a manifest sets it, below the container (`limits.swap`); `[]` marks each entry of a list
   * (`limits.io.devices[].readBps`). Absent: not in manifests (`--cpu-shares`: use cpuWeight).
   */
  readonly manifest?: string;
  /** The kernel-side limit it sets, as AppliedSetting.limit names it; absent: not a cgroup limit. */
  readonly limit?: string;
  /** Only at create: `update` cannot change it (the oom score is set on processes as they start). */
  readonly createOnly?: boolean;
}

export const LIMIT_KEYS = [
  { key: 'cpus', flag: '--cpus', kind: 'quantity', arg: '<n>', help: 'CPU limit in cores, e.g. 0.5 (cpu.max quota over a 100 ms period)', manifest: 'limits.cpu', limit: 'cpus' },
  { key: 'cpuShares', flag: '--cpu-shares', kind: 'quantity', arg: '<n>', help: 'relative CPU weight, Docker scale 2-262144 (default 1024)', limit: 'cpu-weight' },
  { key: 'cpuWeight', flag: '--cpu-weight', kind: 'quantity', arg: '<n>', help: 'relative CPU weight, cgroup v2 scale 1-10000 (default 100)', manifest: 'limits.cpuWeight', limit: 'cpu-weight' },
  { key: 'cpusetCpus', flag: '--cpuset-cpus', kind: 'text', arg: '<list>', help: 'CPUs the container may use, e.g. 0-1 or 0,2', manifest: 'limits.cpuset.cpus', limit: 'cpuset-cpus' },
  { key: 'cpusetMems', flag: '--cpuset-mems', kind: 'text', arg: '<list>', help: 'memory nodes the container may use, e.g. 0', manifest: 'limits.cpuset.mems', limit: 'cpuset-mems' },
  { key: 'memory', flag: '--memory', short: '-m', kind: 'quantity', arg: '<bytes>', help: 'memory limit, e.g. 256m, 1g (Docker units: m = MiB)', manifest: 'limits.memory', limit: 'memory' },
  { key: 'memoryReservation', flag: '--memory-reservation', kind: 'quantity', arg: '<bytes>', help: 'memory the kernel protects under pressure (memory.low)', manifest: 'limits.memoryReservation', limit: 'memory-reservation' },
  { key: 'memorySwap', flag: '--memory-swap', kind: 'quantity', arg: '<bytes>', help: 'memory plus swap limit (Docker meaning); -1 for unlimited swap', manifest: 'limits.swap', limit: 'memory-swap' },
  { key: 'oomScoreAdj', flag: '--oom-score-adj', kind: 'quantity', arg: '<n>', help: "OOM killer preference for the container's processes, -1000 to 1000", manifest: 'oomScoreAdj', createOnly: true },
  { key: 'pidsLimit', flag: '--pids-limit', kind: 'quantity', arg: '<n>', help: 'maximum number of processes (-1 for unlimited)', manifest: 'limits.pids', limit: 'pids-limit' },
  { key: 'deviceReadBps', flag: '--device-read-bps', kind: 'list', arg: '<dev:rate>', help: 'read rate limit for a block device, e.g. /dev/vda:10mb (repeatable)', manifest: 'limits.io.devices[].readBps', limit: 'device-read-bps' },
  { key: 'deviceWriteBps', flag: '--device-write-bps', kind: 'list', arg: '<dev:rate>', help: 'write rate limit for a block device (repeatable)', manifest: 'limits.io.devices[].writeBps', limit: 'device-write-bps' },
  { key: 'deviceReadIops', flag: '--device-read-iops', kind: 'list', arg: '<dev:n>', help: 'read IO/s limit for a block device (repeatable)', manifest: 'limits.io.devices[].readIops', limit: 'device-read-iops' },
  { key: 'deviceWriteIops', flag: '--device-write-iops', kind: 'list', arg: '<dev:n>', help: 'write IO/s limit for a block device (repeatable)', manifest: 'limits.io.devices[].writeIops', limit: 'device-write-iops' },
  { key: 'blkioWeight', flag: '--blkio-weight', kind: 'quantity', arg: '<n>', help: 'relative block IO weight, 10-1000', manifest: 'limits.io.weight', limit: 'blkio-weight' },
] as const satisfies readonly LimitKey[];

type Entry = (typeof LIMIT_KEYS)[number];

/** A LimitRequest field. */
export type LimitRequestKey = Entry['key'];

/** One name per user-facing cgroup limit, as in Docker's flags (`--cpu-shares` and `--cpu-weight` set `cpu-weight`). */
export type LimitName = Extract<Entry, { limit: string }>['limit'];

type ValueOf<K extends LimitKind> = K extends 'list' ? string[] : K extends 'text' ? string : string | number;

/** Resource limits as the user wrote them: Docker's flag names and units, numbers allowed where a flag takes a number. */
export type LimitRequest = { [E in Entry as E['key']]?: ValueOf<E['kind']> };

/** The table's entry for a LimitRequest field. */
export const LIMIT_KEY: { readonly [K in LimitRequestKey]: Extract<Entry, { key: K }> } = Object.fromEntries(LIMIT_KEYS.map((e) => [e.key, e])) as never;

/** Fields taking one value (`quantity` and `text`), in table order. */
export const SCALAR_LIMIT_KEYS: readonly LimitRequestKey[] = LIMIT_KEYS.filter((e) => e.kind !== 'list').map((e) => e.key);
/** Fields taking a list (the device throttles), in table order. */
export const LIST_LIMIT_KEYS: readonly LimitRequestKey[] = LIMIT_KEYS.filter((e) => e.kind === 'list').map((e) => e.key);
