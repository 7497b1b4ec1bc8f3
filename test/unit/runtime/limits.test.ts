import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { splitRdev } from '../../../src/cgroups/io-throttle.js';
import { parseList } from '../../../src/cgroups/limits.js';
import { type DeviceStat, limitsFromFlags } from '../../../src/runtime/limits.js';

const MiB = 2 ** 20;
const host = { cpus: 2, mems: '0' };

/** A fake /dev: vda is block device 254:0, sdb 8:16, null a character device. */
async function stat(path: string): Promise<DeviceStat> {
  const devices: Record<string, [boolean, number]> = {
    '/dev/vda': [true, (254 << 8) | 0],
    '/dev/sdb': [true, (8 << 8) | 16],
    '/dev/nvme0n1p300': [true, (259 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12)],
    '/dev/null': [false, (1 << 8) | 3],
  };
  const d = devices[path];
  if (!d) throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${path}'`), { code: 'ENOENT' });
  return { isBlockDevice: () => d[0], rdev: d[1] };
}

const fail = async (flags: Parameters<typeof limitsFromFlags>[0], opts = {}) => {
  const err = await limitsFromFlags(flags, host, { stat, ...opts }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  return (err as Error).message;
};

describe('limitsFromFlags', () => {
  it('maps every flag to kernel terms and records what was asked', async () => {
    const limits = await limitsFromFlags(
      {
        cpus: '0.5',
        cpuShares: '512',
        cpusetCpus: '0-1',
        cpusetMems: '0',
        memory: '512m',
        memoryReservation: '256m',
        memorySwap: '1g',
        pidsLimit: '100',
        deviceReadBps: ['/dev/vda:10mb'],
        deviceWriteIops: ['/dev/vda:100', '/dev/sdb:50'],
        blkioWeight: '500',
      },
      host,
      { stat },
    );
    expect(limits).toEqual({
      cpu: { quotaUs: 50000, periodUs: 100000, shares: 512, weight: 20 },
      cpuset: { cpus: '0-1', mems: '0' },
      memory: { max: 512 * MiB, low: 256 * MiB, swap: 1024 * MiB },
      pids: { max: 100 },
      io: {
        blkioWeight: 500,
        weight: 4950,
        devices: {
          '254:0': { rbps: 10 * MiB, wiops: 100, requested: { rbps: '--device-read-bps /dev/vda:10mb', wiops: '--device-write-iops /dev/vda:100' } },
          '8:16': { wiops: 50, requested: { wiops: '--device-write-iops /dev/sdb:50' } },
        },
      },
      requested: {
        cpus: '--cpus 0.5',
        'cpu-weight': '--cpu-shares 512',
        'cpuset-cpus': '--cpuset-cpus 0-1',
        'cpuset-mems': '--cpuset-mems 0',
        memory: '--memory 512m',
        'memory-reservation': '--memory-reservation 256m',
        'memory-swap': '--memory-swap 1g',
        'pids-limit': '--pids-limit 100',
        'blkio-weight': '--blkio-weight 500',
      },
    });
  });

  it('adds a new container\'s defaults: pids limit, and swap twice the memory as Docker does', async () => {
    expect(await limitsFromFlags({}, host)).toEqual({ pids: { max: 4096 }, requested: { 'pids-limit': 'default 4096' } });
    expect(await limitsFromFlags({ memory: '64m' }, host)).toMatchObject({ memory: { max: 64 * MiB, swap: 128 * MiB } });
    expect(await limitsFromFlags({ memorySwap: '-1', memory: 64 * MiB }, host)).toMatchObject({ memory: { max: 64 * MiB, swap: 'max' } });
  });

  it('changes only what a live update names', async () => {
    expect(await limitsFromFlags({ memory: '64m' }, host, { defaults: false })).toEqual({ memory: { max: 64 * MiB }, requested: { memory: '--memory 64m' } });
    expect(await limitsFromFlags({ memorySwap: '1g' }, host, { defaults: false })).toMatchObject({ memory: { swap: 1024 * MiB } });
    expect(await limitsFromFlags({}, host, { defaults: false })).toEqual({});
  });

  it('takes -1 and 0 as unlimited pids, and v2 weights as given', async () => {
    expect((await limitsFromFlags({ pidsLimit: '-1' }, host)).pids).toEqual({ max: 'max' });
    expect((await limitsFromFlags({ pidsLimit: 0 }, host)).pids).toEqual({ max: 'max' });
    expect((await limitsFromFlags({ cpuWeight: '300' }, host)).cpu).toEqual({ weight: 300 });
  });

  it('refuses CPUs outside 0.01 to the host\'s count', async () => {
    expect(await fail({ cpus: '4' })).toBe('invalid --cpus "4": must be from 0.01 to 2 (this host\'s CPUs)');
    expect(await fail({ cpus: '0' })).toMatch(/must be from 0.01 to 2/);
    expect(await fail({ cpus: '500m' })).toBe('invalid --cpus "500m": use a decimal number of CPUs, e.g. 0.5 or 2');
  });

  it('refuses weights out of range and both weight flags at once', async () => {
    expect(await fail({ cpuShares: '1' })).toBe('invalid --cpu-shares "1": must be a whole number from 2 to 262144 (Docker scale, default 1024)');
    expect(await fail({ cpuWeight: '20000' })).toBe('invalid --cpu-weight "20000": must be a whole number from 1 to 10000 (cgroup v2 scale, default 100)');
    expect(await fail({ cpuShares: '512', cpuWeight: '20' })).toMatch(/^--cpu-shares and --cpu-weight set the same cpu weight: give one/);
    expect(await fail({ blkioWeight: '5' })).toBe('invalid --blkio-weight "5": must be a whole number from 10 to 1000 (default 500)');
  });

  it('refuses cpusets outside the host', async () => {
    expect(await fail({ cpusetCpus: '0-3' })).toBe('invalid --cpuset-cpus "0-3": 2,3 not on this host, which has CPUs 0-1');
    expect(await fail({ cpusetCpus: '1-0' })).toBe('invalid --cpuset-cpus "1-0": use a list like 0-1 or 0,2 within this host\'s CPUs 0-1');
    expect(await fail({ cpusetMems: '1' })).toBe('invalid --cpuset-mems "1": 1 not on this host, which has memory nodes 0');
  });

  it('refuses memory below 6 MiB, a reservation above the limit and swap below memory', async () => {
    expect(await fail({ memory: '4m' })).toBe('invalid --memory "4m": must be at least 6 MiB (6m)');
    expect(await fail({ memory: '1x' })).toMatch(/^invalid --memory "1x": use bytes with an optional unit b, k, m, g, t/);
    // Docker's m is MiB, never milli.
    expect((await limitsFromFlags({ memory: '500m' }, host)).memory?.max).toBe(500 * MiB);
    expect(await fail({ memory: '64m', memoryReservation: '128m' })).toBe('invalid --memory-reservation "128m": must not exceed --memory (64 MiB)');
    expect(await fail({ memory: '64m', memorySwap: '32m' })).toBe(
      'invalid --memory-swap "32m": is memory plus swap, so at least --memory (64 MiB); -1 for unlimited swap',
    );
    expect(await fail({ memorySwap: '1g' })).toBe('invalid --memory-swap "1g": needs --memory too: it is the memory plus swap total');
  });

  it('refuses pids limits that are not counts', async () => {
    expect(await fail({ pidsLimit: 'lots' })).toBe('invalid --pids-limit "lots": must be a whole number from 1 to 4194304 (-1 or 0 for unlimited)');
    expect(await fail({ pidsLimit: '-5' })).toMatch(/^invalid --pids-limit "-5"/);
  });

  it('resolves device paths to major:minor and refuses what is not a block device', async () => {
    const limits = await limitsFromFlags({ deviceReadIops: ['/dev/nvme0n1p300:0'] }, host, { stat });
    // 0 removes a throttle.
    expect(limits.io?.devices).toEqual({ '259:300': { riops: 'max', requested: { riops: '--device-read-iops /dev/nvme0n1p300:0' } } });
    expect(await fail({ deviceReadBps: ['/dev/null:1mb'] })).toBe(
      'invalid --device-read-bps "/dev/null:1mb": /dev/null is not a block device; use PATH:RATE with PATH a block device, e.g. /dev/vda:10mb',
    );
    expect(await fail({ deviceReadBps: ['/dev/nope:1mb'] })).toBe('invalid --device-read-bps "/dev/nope:1mb": /dev/nope: no such file or directory, stat \'/dev/nope\' (ENOENT)');
    expect(await fail({ deviceWriteBps: ['vda:1mb'] })).toBe('invalid --device-write-bps "vda:1mb": use PATH:RATE with PATH a block device, e.g. /dev/vda:10mb');
    expect(await fail({ deviceWriteIops: ['/dev/vda:fast'] })).toMatch(/^invalid --device-write-iops rate "fast": must be a whole number from 0/);
    expect(await fail({ deviceReadBps: ['/dev/vda:1x'] })).toMatch(/^invalid --device-read-bps rate "1x": use bytes with an optional unit/);
    expect(await fail({ deviceReadBps: ['/dev/vda:1mb', '/dev/vda:2mb'] })).toBe(
      'invalid --device-read-bps "/dev/vda:2mb": names device 254:0 again; give one rate per device',
    );
  });

  it('reports every problem at once', async () => {
    const err = await limitsFromFlags({ cpus: '9', memory: '1k', pidsLimit: 'x' }, host, { stat }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details?.problems).toHaveLength(3);
    expect((err as Error).message.split('; ').map((s) => s.split(':')[0])).toEqual(['invalid --cpus "9"', 'invalid --memory "1k"', 'invalid --pids-limit "x"']);
  });
});

describe('device numbers and lists', () => {
  it('splits dev_t as glibc does', () => {
    expect(splitRdev((254 << 8) | 0)).toEqual({ major: 254, minor: 0 });
    expect(splitRdev((8 << 8) | 16)).toEqual({ major: 8, minor: 16 });
    expect(splitRdev((259 << 8) | 44 | (1 << 20))).toEqual({ major: 259, minor: 300 });
  });

  it('parses kernel lists', () => {
    expect([...parseList('0-2,5')!]).toEqual([0, 1, 2, 5]);
    expect(parseList('1-0')).toBeUndefined();
    expect(parseList('a')).toBeUndefined();
  });
});
