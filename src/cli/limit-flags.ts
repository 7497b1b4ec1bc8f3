import type { Command } from 'commander';
import type { LimitRequest } from '../api/types.js';
import { collect } from './options.js';

/** Docker's resource flags, shared by `run`, `create` and `update`; values go to corrald as written. */
export interface LimitFlags {
  cpus?: string;
  cpuShares?: string;
  cpuWeight?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  oomScoreAdj?: string;
  pidsLimit?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  blkioWeight?: string;
  ignoreMissingLimits?: boolean;
}

export function addLimitFlags(cmd: Command, opts: { create: boolean } = { create: true }): Command {
  cmd
    .option('--cpus <n>', 'CPU limit in cores, e.g. 0.5 (cpu.max quota over a 100 ms period)')
    .option('--cpu-shares <n>', 'relative CPU weight, Docker scale 2-262144 (default 1024)')
    .option('--cpu-weight <n>', 'relative CPU weight, cgroup v2 scale 1-10000 (default 100)')
    .option('--cpuset-cpus <list>', 'CPUs the container may use, e.g. 0-1 or 0,2')
    .option('--cpuset-mems <list>', 'memory nodes the container may use, e.g. 0')
    .option('-m, --memory <bytes>', 'memory limit, e.g. 256m, 1g (Docker units: m = MiB)')
    .option('--memory-reservation <bytes>', 'memory the kernel protects under pressure (memory.low)')
    .option('--memory-swap <bytes>', 'memory plus swap limit (Docker meaning); -1 for unlimited swap')
    .option('--pids-limit <n>', 'maximum number of processes (-1 for unlimited)')
    .option('--device-read-bps <dev:rate>', 'read rate limit for a block device, e.g. /dev/vda:10mb (repeatable)', collect)
    .option('--device-write-bps <dev:rate>', 'write rate limit for a block device (repeatable)', collect)
    .option('--device-read-iops <dev:n>', 'read IO/s limit for a block device (repeatable)', collect)
    .option('--device-write-iops <dev:n>', 'write IO/s limit for a block device (repeatable)', collect)
    .option('--blkio-weight <n>', 'relative block IO weight, 10-1000')
    .option('--ignore-missing-limits', 'run even where this host cannot enforce a requested limit');
  if (opts.create) cmd.option('--oom-score-adj <n>', 'OOM killer preference for the container\'s processes, -1000 to 1000');
  return cmd;
}

/** Only the flags that were given. */
export function toLimitRequest(f: LimitFlags): LimitRequest | undefined {
  const keys = ['cpus', 'cpuShares', 'cpuWeight', 'cpusetCpus', 'cpusetMems', 'memory', 'memoryReservation', 'memorySwap', 'oomScoreAdj', 'pidsLimit', 'blkioWeight'] as const;
  const lists = ['deviceReadBps', 'deviceWriteBps', 'deviceReadIops', 'deviceWriteIops'] as const;
  const out: LimitRequest = {};
  for (const k of keys) if (f[k] !== undefined) out[k] = f[k];
  for (const k of lists) if (f[k]?.length) out[k] = f[k];
  return Object.keys(out).length > 0 ? out : undefined;
}
