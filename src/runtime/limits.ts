import { readFile, stat as fsStat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import {
  DEFAULT_PIDS_LIMIT,
  type DeviceThrottle,
  type IoThrottleKey,
  type LimitName,
  type Limits,
  MIN_CPU_QUOTA_US,
  MIN_MEMORY_BYTES,
  blkioToIoWeight,
  cpusToQuota,
  parseList,
  sharesToWeight,
} from '../cgroups/limits.js';
import { splitRdev } from '../cgroups/io-throttle.js';
import { LIMIT_KEY, type LimitRequestKey } from '../api/limit-keys.js';
import type { LimitRequest } from '../api/types.js';
import { ValidationError, describe } from '../errors.js';
import { formatBytes, parseDockerBytes, parseDockerCpus } from '../util/quantity.js';

/** Docker's resource flags as the user wrote them (the API's LimitRequest, less the create-only oom score). */
export type LimitFlagValues = Omit<LimitRequest, 'oomScoreAdj'>;

/** A field's flag, from the one table (`memorySwap` → `--memory-swap`). */
const flag = (key: LimitRequestKey): string => LIMIT_KEY[key].flag;

/** What the limits are checked against. */
export interface HostResources {
  /** Online CPUs; CPU ids 0..cpus-1. */
  cpus: number;
  /** Memory nodes in kernel list syntax, `0` or `0-1`. */
  mems: string;
}

/** The part of stat(2) device flags need. */
export interface DeviceStat {
  isBlockDevice(): boolean;
  rdev: number;
}

export interface LimitsFromFlagsOptions {
  /**
   * Add the defaults a new container gets: pids.max DEFAULT_PIDS_LIMIT, and memory+swap twice
   * the memory when only --memory is given (Docker's default). Off for live updates, which change
   * only what they name. Default true.
   */
  defaults?: boolean;
  /** stat(2) of a device path; tests inject one. */
  stat?: (path: string) => Promise<DeviceStat>;
  /**
   * Containers pinned to each CPU so far (index: CPU id). Given, `--cpus N` without
   * `--cpuset-cpus` also pins the container to the ⌈N⌉ least used CPUs, so `nproc` (the affinity
   * mask) says what it may use.
   */
  cpuPins?: readonly number[];
}

const MAX_PIDS = 4194304; // PID_MAX_LIMIT on 64-bit

/**
 * Docker flags → Limits, every flag checked before anything is created: all problems are reported
 * at once, each naming the flag and what it accepts. Pure apart from stat(2) of device paths.
 */
export async function limitsFromFlags(flags: LimitFlagValues, host: HostResources, opts: LimitsFromFlagsOptions = {}): Promise<Limits> {
  const defaults = opts.defaults ?? true;
  const problems: string[] = [];
  const requested: Partial<Record<LimitName, string>> = {};
  const limits: Limits = {};
  const check = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };

  // CPU
  if (flags.cpus !== undefined) {
    const cpus = check(() => parseDockerCpus(flags.cpus!, flag('cpus')));
    const min = MIN_CPU_QUOTA_US / 100_000;
    if (cpus !== undefined && (cpus < min || cpus > host.cpus)) problems.push(invalid(flag('cpus'), flags.cpus, `must be from ${min} to ${host.cpus} (this host's CPUs)`));
    else if (cpus !== undefined) {
      limits.cpu = { ...cpusToQuota(cpus) };
      requested[LIMIT_KEY.cpus.limit] = `${flag('cpus')} ${flags.cpus}`;
      if (opts.cpuPins && flags.cpusetCpus === undefined) {
        limits.cpuset = { cpus: balancedCpuset(cpus, opts.cpuPins, host.cpus) };
        requested[LIMIT_KEY.cpusetCpus.limit] = `from ${flag('cpus')} ${flags.cpus}`;
      }
    }
  }
  if (flags.cpuShares !== undefined && flags.cpuWeight !== undefined) {
    problems.push('--cpu-shares and --cpu-weight set the same cpu weight: give one (--cpu-weight 100 = the v2 default; --cpu-shares 1024 = the v1 default)');
  } else if (flags.cpuShares !== undefined) {
    const shares = check(() => integer(flag('cpuShares'), flags.cpuShares!, 2, 262144, 'Docker scale, default 1024'));
    if (shares !== undefined) {
      limits.cpu = { ...limits.cpu, shares, weight: sharesToWeight(shares) };
      requested[LIMIT_KEY.cpuShares.limit] = `${flag('cpuShares')} ${flags.cpuShares}`;
    }
  } else if (flags.cpuWeight !== undefined) {
    const weight = check(() => integer(flag('cpuWeight'), flags.cpuWeight!, 1, 10000, 'cgroup v2 scale, default 100'));
    if (weight !== undefined) {
      limits.cpu = { ...limits.cpu, weight };
      requested[LIMIT_KEY.cpuWeight.limit] = `${flag('cpuWeight')} ${flags.cpuWeight}`;
    }
  }

  // cpuset
  if (flags.cpusetCpus !== undefined) {
    const all = `0-${host.cpus - 1}`;
    const ok = check(() => checkList(flag('cpusetCpus'), flags.cpusetCpus!, parseList(all)!, host.cpus === 1 ? 'CPU 0' : `CPUs ${all}`));
    if (ok !== undefined) {
      limits.cpuset = { ...limits.cpuset, cpus: ok };
      requested[LIMIT_KEY.cpusetCpus.limit] = `${flag('cpusetCpus')} ${flags.cpusetCpus}`;
    }
  }
  if (flags.cpusetMems !== undefined) {
    const hostMems = parseList(host.mems) ?? new Set([0]);
    const ok = check(() => checkList(flag('cpusetMems'), flags.cpusetMems!, hostMems, `memory nodes ${host.mems}`));
    if (ok !== undefined) {
      limits.cpuset = { ...limits.cpuset, mems: ok };
      requested[LIMIT_KEY.cpusetMems.limit] = `${flag('cpusetMems')} ${flags.cpusetMems}`;
    }
  }

  // memory
  const memory = flags.memory === undefined ? undefined : check(() => atLeast(flag('memory'), flags.memory!, MIN_MEMORY_BYTES));
  if (memory !== undefined) {
    limits.memory = { max: memory };
    requested[LIMIT_KEY.memory.limit] = `${flag('memory')} ${flags.memory}`;
  }
  if (flags.memoryReservation !== undefined) {
    const low = check(() => atLeast(flag('memoryReservation'), flags.memoryReservation!, MIN_MEMORY_BYTES));
    if (low !== undefined && memory !== undefined && low > memory) {
      problems.push(invalid(flag('memoryReservation'), flags.memoryReservation, `must not exceed --memory (${formatBytes(memory)})`));
    } else if (low !== undefined) {
      limits.memory = { ...limits.memory, low };
      requested[LIMIT_KEY.memoryReservation.limit] = `${flag('memoryReservation')} ${flags.memoryReservation}`;
    }
  }
  if (flags.memorySwap !== undefined) {
    const text = String(flags.memorySwap).trim();
    const swap = text === '-1' ? 'max' : check(() => parseDockerBytes(text, flag('memorySwap')));
    if (swap !== undefined) {
      if (defaults && flags.memory === undefined) {
        problems.push(invalid(flag('memorySwap'), flags.memorySwap, 'needs --memory too: it is the memory plus swap total'));
      } else if (swap !== 'max' && memory !== undefined && swap < memory) {
        problems.push(invalid(flag('memorySwap'), flags.memorySwap, `is memory plus swap, so at least --memory (${formatBytes(memory)}); -1 for unlimited swap`));
      } else {
        limits.memory = { ...limits.memory, swap };
        requested[LIMIT_KEY.memorySwap.limit] = `${flag('memorySwap')} ${flags.memorySwap}`;
      }
    }
  } else if (defaults && memory !== undefined) {
    limits.memory = { ...limits.memory, swap: memory * 2 };
    requested['memory-swap'] = 'twice --memory (Docker\'s default)';
  }

  // pids
  if (flags.pidsLimit !== undefined) {
    const text = String(flags.pidsLimit).trim();
    if (text === '-1' || text === '0') limits.pids = { max: 'max' };
    else {
      const n = check(() => integer(flag('pidsLimit'), flags.pidsLimit!, 1, MAX_PIDS, '-1 or 0 for unlimited'));
      if (n !== undefined) limits.pids = { max: n };
    }
    requested[LIMIT_KEY.pidsLimit.limit] = `${flag('pidsLimit')} ${flags.pidsLimit}`;
  } else if (defaults) {
    limits.pids = { max: DEFAULT_PIDS_LIMIT };
    requested['pids-limit'] = `default ${DEFAULT_PIDS_LIMIT}`;
  }

  // block io
  if (flags.blkioWeight !== undefined) {
    const w = check(() => integer(flag('blkioWeight'), flags.blkioWeight!, 10, 1000, 'default 500'));
    if (w !== undefined) {
      limits.io = { ...limits.io, blkioWeight: w, weight: blkioToIoWeight(w) };
      requested[LIMIT_KEY.blkioWeight.limit] = `${flag('blkioWeight')} ${flags.blkioWeight}`;
    }
  }
  const devices: Record<string, DeviceThrottle> = {};
  const stat = opts.stat ?? fsStat;
  const deviceFlags: [IoThrottleKey, string, string[] | undefined][] = [
    ['rbps', flag('deviceReadBps'), flags.deviceReadBps],
    ['wbps', flag('deviceWriteBps'), flags.deviceWriteBps],
    ['riops', flag('deviceReadIops'), flags.deviceReadIops],
    ['wiops', flag('deviceWriteIops'), flags.deviceWriteIops],
  ];
  for (const [key, flag, values] of deviceFlags) {
    for (const arg of values ?? []) {
      const parsed = await deviceRate(flag, arg, key.endsWith('bps'), stat).catch((err: unknown) => {
        if (!(err instanceof ValidationError)) throw err;
        problems.push(err.message);
        return undefined;
      });
      if (!parsed) continue;
      const t = (devices[parsed.device] ??= {});
      if (t[key] !== undefined) {
        problems.push(invalid(flag, arg, `names device ${parsed.device} again; give one rate per device`));
        continue;
      }
      t[key] = parsed.rate;
      t.requested = { ...t.requested, [key]: `${flag} ${arg}` };
    }
  }
  if (Object.keys(devices).length > 0) limits.io = { ...limits.io, devices };

  if (problems.length > 0) throw new ValidationError(problems.join('; '), { problems });
  if (Object.keys(requested).length > 0) limits.requested = requested;
  return limits;
}

/** ⌈cpus⌉ of the host's CPUs with the fewest containers pinned (ties: the lowest id), as a kernel list. */
export function balancedCpuset(cpus: number, pins: readonly number[], hostCpus: number): string {
  const n = Math.max(1, Math.min(hostCpus, Math.ceil(Math.round(cpus * 1e6) / 1e6)));
  const ids = Array.from({ length: hostCpus }, (_, i) => i).sort((a, b) => (pins[a] ?? 0) - (pins[b] ?? 0) || a - b);
  return formatList(ids.slice(0, n));
}

/** How many of these cpusets (kernel lists; undefined: unpinned) include each CPU. */
export function countCpuPins(cpusets: Iterable<string | undefined>, hostCpus: number): number[] {
  const pins = new Array<number>(hostCpus).fill(0);
  for (const set of cpusets) for (const id of (set && parseList(set)) || []) if (id < hostCpus) pins[id]! += 1;
  return pins;
}

/** `[0, 1, 2, 5]` → `0-2,5`. */
function formatList(ids: number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j;
  }
  return parts.join(',');
}

/** This host's online CPUs and memory nodes, from sysfs. */
export async function readHostResources(): Promise<HostResources> {
  const read = (p: string) => readFile(p, 'utf8').then((s) => s.trim(), () => undefined);
  const online = await read('/sys/devices/system/cpu/online');
  const cpus = online ? (parseList(online)?.size ?? availableParallelism()) : availableParallelism();
  return { cpus, mems: (await read('/sys/devices/system/node/online')) || '0' };
}

/** `PATH:RATE` → `major:minor` and the rate; PATH must be a block device on this host. */
async function deviceRate(
  flag: string,
  arg: string,
  bytes: boolean,
  stat: (path: string) => Promise<DeviceStat>,
): Promise<{ device: string; rate: number | 'max' }> {
  const format = `use PATH:RATE with PATH a block device, e.g. /dev/vda:${bytes ? '10mb' : '1000'}`;
  const at = arg.lastIndexOf(':');
  const path = arg.slice(0, at);
  const rateText = arg.slice(at + 1);
  if (at <= 0 || !path.startsWith('/') || rateText === '') throw new ValidationError(invalid(flag, arg, format), { field: flag, value: arg });
  const rate = bytes ? parseDockerBytes(rateText, `${flag} rate`) : integer(`${flag} rate`, rateText, 0, Number.MAX_SAFE_INTEGER, 'IO operations per second');
  let st: DeviceStat;
  try {
    st = await stat(path);
  } catch (err) {
    throw new ValidationError(invalid(flag, arg, `${path}: ${describe(err)}`), { field: flag, value: arg });
  }
  if (!st.isBlockDevice()) throw new ValidationError(invalid(flag, arg, `${path} is not a block device; ${format}`), { field: flag, value: arg });
  const { major, minor } = splitRdev(st.rdev);
  return { device: `${major}:${minor}`, rate: rate === 0 ? 'max' : rate };
}

function integer(field: string, value: string | number, min: number, max: number, note: string): number {
  const text = String(value).trim();
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || n < min || n > max) {
    throw new ValidationError(invalid(field, value, `must be a whole number from ${min} to ${max} (${note})`), { field, value: String(value) });
  }
  return n;
}

function atLeast(field: string, value: string | number, min: number): number {
  const n = parseDockerBytes(value, field);
  if (n < min) throw new ValidationError(invalid(field, value, `must be at least ${formatBytes(min)} (6m)`), { field, value: String(value) });
  return n;
}

function checkList(field: string, value: string, allowed: Set<number>, allowedText: string): string {
  const ids = parseList(value);
  if (!ids) throw new ValidationError(invalid(field, value, `use a list like 0-1 or 0,2 within this host's ${allowedText}`), { field, value });
  const outside = [...ids].filter((i) => !allowed.has(i));
  if (outside.length > 0) throw new ValidationError(invalid(field, value, `${outside.join(',')} not on this host, which has ${allowedText}`), { field, value });
  return value.trim();
}

function invalid(field: string, value: unknown, reason: string): string {
  return `invalid ${field} ${JSON.stringify(String(value))}: ${reason}`;
}
