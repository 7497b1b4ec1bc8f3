import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseCgroupMounts } from '../../../src/cgroups/detect.js';
import { ControllerMissingError, type Limits } from '../../../src/cgroups/limits.js';
import { V1CgroupManager } from '../../../src/cgroups/v1/manager.js';
import { CgroupError } from '../../../src/errors.js';
import { V1_UNLIMITED, fakeV1, type FakeCgroupfs } from './fake-cgroupfs.js';
import { io } from './recorded-writes.js';

vi.mock('node:fs/promises', (orig) => import('./recorded-writes.js').then((m) => m.recordWrites(orig)));

const MiB = 2 ** 20;
let fake: FakeCgroupfs;
let logs: string[];
let root: string;
const fakes: FakeCgroupfs[] = [];

async function setup(hierarchies?: string[]): Promise<V1CgroupManager> {
  fake = await fakeV1(hierarchies);
  fakes.push(fake);
  root = fake.root;
  const m = new V1CgroupManager({
    hierarchies: parseCgroupMounts(fake.mountinfo, fake.root).v1,
    parent: 'corral',
    rmdir: fake.rmdir,
    log: (s) => logs.push(s),
    sendSignal: () => {
      throw new Error('no signals in unit tests');
    },
  });
  // The fake kernel gives c1 its hierarchies' control files (V1_CONTROL_FILES) at mkdir.
  await m.create('c1');
  io.writes.length = 0;
  return m;
}

beforeEach(() => {
  logs = [];
  io.writes.length = 0;
  io.refuse = undefined;
});
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.cleanup();
});

const dir = (h: string) => `${root}/${h}/corral/c1`;
/** Test-side writes go around the recording mock. */
const put = (p: string, s: string) => writeFileSync(p, s);
const read = (p: string) => readFile(p, 'utf8').then((s) => s.trim());
const written = () => io.writes.map((w) => `${w.path.slice(root.length + 1)} = ${w.data}`);
const errno = (code: string, message = code) => Object.assign(new Error(`${code}: ${message}`), { code });

/** The kernel's rule for v1 memory: memsw.limit_in_bytes >= limit_in_bytes after every write. */
function memswRule(path: string, data: string): NodeJS.ErrnoException | undefined {
  const d = path.slice(0, path.lastIndexOf('/'));
  const big = (s: string) => (s.trim() === '-1' ? BigInt(V1_UNLIMITED) : BigInt(s.trim()));
  if (path.endsWith('/memory.limit_in_bytes') && big(data) > big(readFileSync(`${d}/memory.memsw.limit_in_bytes`, 'utf8'))) return errno('EINVAL');
  if (path.endsWith('/memory.memsw.limit_in_bytes') && big(data) < big(readFileSync(`${d}/memory.limit_in_bytes`, 'utf8'))) return errno('EINVAL');
  return undefined;
}

describe('v1 limits: files and values', () => {
  it('writes every controller file and reports each setting', async () => {
    const m = await setup();
    const limits: Limits = {
      cpu: { quotaUs: 50000, periodUs: 100000, weight: 20, shares: 512 },
      cpuset: { cpus: '0', mems: '0' },
      memory: { max: 64 * MiB, low: 32 * MiB, swap: 128 * MiB },
      pids: { max: 16 },
      io: { devices: { '254:0': { rbps: MiB, wiops: 100 } } },
      requested: { cpus: '--cpus 0.5', memory: '--memory 64m' },
    };
    const applied = await m.apply('c1', limits);
    // The processes' child follows the limits cgroup's cpuset (an empty cpuset is narrowed child first).
    expect(written()).toEqual([
      'cpuset/corral/c1/payload/cpuset.cpus = 0',
      'cpuset/corral/c1/cpuset.cpus = 0',
      'cpuset/corral/c1/payload/cpuset.mems = 0',
      'cpuset/corral/c1/cpuset.mems = 0',
      'cpu/corral/c1/cpu.cfs_period_us = 100000',
      'cpu/corral/c1/cpu.cfs_quota_us = 50000',
      'cpu/corral/c1/cpu.shares = 512',
      // Raising from unlimited-limit: the limit first is safe, memsw is unlimited until it is lowered.
      'memory/corral/c1/memory.limit_in_bytes = 67108864',
      'memory/corral/c1/memory.memsw.limit_in_bytes = 134217728',
      'memory/corral/c1/memory.soft_limit_in_bytes = 33554432',
      'pids/corral/c1/pids.max = 16',
      'blkio/corral/c1/blkio.throttle.read_bps_device = 254:0 1048576',
      'blkio/corral/c1/blkio.throttle.write_iops_device = 254:0 100',
    ]);
    expect(applied.find((s) => s.limit === 'cpus' && s.file.endsWith('quota_us'))).toEqual({
      limit: 'cpus',
      requested: '--cpus 0.5',
      file: `${dir('cpu')}/cpu.cfs_quota_us`,
      value: '50000',
    });
    expect(applied.find((s) => s.limit === 'memory')).toEqual({ limit: 'memory', requested: '--memory 64m', file: `${dir('memory')}/memory.limit_in_bytes`, value: '67108864' });
    // Without a recorded request the kernel value stands in.
    expect(applied.find((s) => s.limit === 'pids-limit')?.requested).toBe('16');
    expect(applied.every((s) => s.skipped === undefined)).toBe(true);
    expect(await read(`${dir('memory')}/memory.memsw.limit_in_bytes`)).toBe('134217728');
  });

  it('writes unlimited as -1, except pids.max, which only takes max', async () => {
    const m = await setup();
    await m.apply('c1', { cpu: { quotaUs: 'max' }, memory: { max: 'max', swap: 'max', low: 'max' }, pids: { max: 'max' } });
    expect(written()).toEqual([
      'cpu/corral/c1/cpu.cfs_period_us = 100000',
      'cpu/corral/c1/cpu.cfs_quota_us = -1',
      'memory/corral/c1/memory.memsw.limit_in_bytes = -1',
      'memory/corral/c1/memory.limit_in_bytes = -1',
      'memory/corral/c1/memory.soft_limit_in_bytes = -1',
      'pids/corral/c1/pids.max = max',
    ]);
  });

  it('converts a v2 weight back to cpu.shares when no shares were given', async () => {
    const m = await setup();
    await m.apply('c1', { cpu: { weight: 100 } });
    expect(written()).toEqual(['cpu/corral/c1/cpu.shares = 2598']);
  });

  it('retries quota before period when the kernel refuses the period first', async () => {
    const m = await setup();
    let refused = false;
    io.refuse = (p) => {
      if (p.endsWith('cpu.cfs_period_us') && !refused) {
        refused = true;
        return errno('EINVAL');
      }
      return undefined;
    };
    await m.apply('c1', { cpu: { quotaUs: 5000, periodUs: 10000 } });
    expect(written()).toEqual(['cpu/corral/c1/cpu.cfs_quota_us = 5000', 'cpu/corral/c1/cpu.cfs_period_us = 10000']);
  });

  it('names the path and the value when the kernel refuses a write', async () => {
    const m = await setup();
    io.refuse = (p) => (p.endsWith('cpu.cfs_quota_us') ? errno('EINVAL') : undefined);
    const err = await m.apply('c1', { cpu: { quotaUs: 500 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toBe(`write 500 to ${dir('cpu')}/cpu.cfs_quota_us: Invalid argument (EINVAL)`);
  });
});

/** The v1 cpuset rule: a child's set within its parent's, after every write (else EBUSY / EINVAL). */
function cpusetRule(path: string, data: string): NodeJS.ErrnoException | undefined {
  if (!path.endsWith('/cpuset.cpus')) return undefined;
  const set = (s: string) => new Set(s.trim() === '' ? [] : s.trim().split(',').flatMap((r) => {
    const [a, b = a] = r.split('-').map(Number);
    return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
  }));
  const within = (x: Set<number>, y: Set<number>) => [...x].every((c) => y.has(c));
  const d = path.slice(0, path.lastIndexOf('/'));
  const parentFile = `${d.slice(0, d.lastIndexOf('/'))}/cpuset.cpus`;
  if (existsSync(parentFile) && !within(set(data), set(readFileSync(parentFile, 'utf8')))) return errno('EINVAL', 'not within the parent');
  const childFile = `${d}/payload/cpuset.cpus`;
  if (existsSync(childFile) && !within(set(readFileSync(childFile, 'utf8')), set(data))) return errno('EBUSY', 'a child has more');
  return undefined;
}

describe('v1 cpuset: the processes\' child follows the limits cgroup', () => {
  async function withCpus(own: string): Promise<V1CgroupManager> {
    const m = await setup();
    put(`${root}/cpuset/corral/cpuset.cpus`, '0-3\n');
    put(`${dir('cpuset')}/cpuset.cpus`, `${own}\n`);
    put(`${dir('cpuset')}/payload/cpuset.cpus`, `${own}\n`);
    io.refuse = cpusetRule;
    return m;
  }

  it('shrinking: the child first, then the limits cgroup', async () => {
    const m = await withCpus('0-3');
    const applied = await m.apply('c1', { cpuset: { cpus: '1' } });
    expect(written()).toEqual(['cpuset/corral/c1/payload/cpuset.cpus = 1', 'cpuset/corral/c1/cpuset.cpus = 1']);
    expect(applied.map((a) => a.file.slice(root.length + 1))).toEqual(['cpuset/corral/c1/payload/cpuset.cpus', 'cpuset/corral/c1/cpuset.cpus']);
  });

  it('growing: the limits cgroup first, then the child', async () => {
    const m = await withCpus('0');
    await m.apply('c1', { cpuset: { cpus: '0-2' } });
    expect(written()).toEqual(['cpuset/corral/c1/cpuset.cpus = 0-2', 'cpuset/corral/c1/payload/cpuset.cpus = 0-2']);
  });

  it('moving to other cpus: through the union, within Corral\'s parent', async () => {
    const m = await withCpus('0');
    await m.apply('c1', { cpuset: { cpus: '2-3' } });
    expect(written()).toEqual(['cpuset/corral/c1/cpuset.cpus = 0,2-3', 'cpuset/corral/c1/payload/cpuset.cpus = 2-3', 'cpuset/corral/c1/cpuset.cpus = 2-3']);
    expect(await read(`${dir('cpuset')}/cpuset.cpus`)).toBe('2-3');
  });
});

describe('v1 memory and memsw order', () => {
  async function withMemory(limit: number, memsw: number): Promise<V1CgroupManager> {
    const m = await setup();
    put(`${dir('memory')}/memory.limit_in_bytes`, `${limit}\n`);
    put(`${dir('memory')}/memory.memsw.limit_in_bytes`, `${memsw}\n`);
    io.refuse = memswRule;
    return m;
  }

  it('raising both: memsw first, so the new limit fits under it', async () => {
    const m = await withMemory(64 * MiB, 128 * MiB);
    await m.apply('c1', { memory: { max: 256 * MiB, swap: 512 * MiB } });
    expect(written()).toEqual(['memory/corral/c1/memory.memsw.limit_in_bytes = 536870912', 'memory/corral/c1/memory.limit_in_bytes = 268435456']);
  });

  it('lowering both: the limit first, so the new memsw stays above it', async () => {
    const m = await withMemory(256 * MiB, 512 * MiB);
    await m.apply('c1', { memory: { max: 32 * MiB, swap: 48 * MiB } });
    expect(written()).toEqual(['memory/corral/c1/memory.limit_in_bytes = 33554432', 'memory/corral/c1/memory.memsw.limit_in_bytes = 50331648']);
  });

  it('raising the limit past the old memsw while lowering memsw relative to it still fits', async () => {
    // 64M/512M → 256M/300M: new memsw above the old limit, so memsw goes first.
    const m = await withMemory(64 * MiB, 512 * MiB);
    await m.apply('c1', { memory: { max: 256 * MiB, swap: 300 * MiB } });
    expect(await read(`${dir('memory')}/memory.limit_in_bytes`)).toBe(String(256 * MiB));
    expect(await read(`${dir('memory')}/memory.memsw.limit_in_bytes`)).toBe(String(300 * MiB));
  });

  it('lifting the memory limit lifts memsw too, first', async () => {
    const m = await withMemory(64 * MiB, 128 * MiB);
    const applied = await m.apply('c1', { memory: { max: 'max' } });
    expect(written()).toEqual(['memory/corral/c1/memory.memsw.limit_in_bytes = -1', 'memory/corral/c1/memory.limit_in_bytes = -1']);
    expect(applied.map((s) => s.limit)).toEqual(['memory-swap', 'memory']);
  });

  it('refuses a memory limit above the memsw in force, saying to update swap too', async () => {
    const m = await withMemory(64 * MiB, 128 * MiB);
    await expect(m.apply('c1', { memory: { max: 256 * MiB } })).rejects.toThrow(
      `write 268435456 to ${dir('memory')}/memory.limit_in_bytes: above memory.memsw.limit_in_bytes (134217728); set memory-swap in the same update`,
    );
    expect(written()).toEqual([]);
  });

  it('reports swap as unavailable where the kernel has no memsw files, and still sets memory', async () => {
    const m = await setup();
    await unlink(`${dir('memory')}/memory.memsw.limit_in_bytes`);
    const applied = await m.apply('c1', { memory: { max: 64 * MiB, swap: 128 * MiB }, requested: { 'memory-swap': '--memory-swap 128m' } });
    expect(written()).toEqual(['memory/corral/c1/memory.limit_in_bytes = 67108864']);
    expect(applied[1]).toEqual({
      limit: 'memory-swap',
      requested: '--memory-swap 128m',
      file: `${dir('memory')}/memory.memsw.limit_in_bytes`,
      value: '',
      skipped: 'swap limits are unavailable: memory.memsw.limit_in_bytes is missing (the kernel has no swap accounting; boot with swapaccount=1)',
    });
    expect(logs).toEqual([`memory-swap --memory-swap 128m not enforced: ${applied[1]!.skipped}`]);
  });
});

describe('v1 blkio', () => {
  it('writes one device per throttle write; max removes the throttle with 0', async () => {
    const m = await setup();
    await m.apply('c1', { io: { devices: { '8:0': { rbps: 10 * MiB, wbps: 'max', riops: 200 }, '254:0': { wiops: 50 } } } });
    expect(written()).toEqual([
      'blkio/corral/c1/blkio.throttle.read_bps_device = 8:0 10485760',
      'blkio/corral/c1/blkio.throttle.write_bps_device = 8:0 0',
      'blkio/corral/c1/blkio.throttle.read_iops_device = 8:0 200',
      'blkio/corral/c1/blkio.throttle.write_iops_device = 254:0 50',
    ]);
  });

  it('writes the weight to blkio.weight, else blkio.bfq.weight, else reports it skipped', async () => {
    const m = await setup();
    const limits: Limits = { io: { weight: 4950, blkioWeight: 500 } };
    const none = await m.apply('c1', limits);
    expect(none).toMatchObject([{ limit: 'blkio-weight', requested: '500', value: '', skipped: expect.stringMatching(/neither blkio.weight nor blkio.bfq.weight/) }]);
    put(`${dir('blkio')}/blkio.bfq.weight`, '100\n');
    await m.apply('c1', limits);
    put(`${dir('blkio')}/blkio.weight`, '500\n');
    // Only an io.weight known: converted back to the 10..1000 scale.
    await m.apply('c1', { io: { weight: 4950 } });
    expect(written()).toEqual(['blkio/corral/c1/blkio.bfq.weight = 500', 'blkio/corral/c1/blkio.weight = 500']);
  });
});

describe('v1 missing controllers', () => {
  const limits: Limits = { cpu: { quotaUs: 50000 }, pids: { max: 64 }, requested: { 'pids-limit': '--pids-limit 64' } };

  it('fails before writing anything, naming the limit and the controller', async () => {
    const m = await setup(['cpu', 'cpuacct', 'memory', 'cpuset']);
    const err = await m.apply('c1', limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControllerMissingError);
    expect(err).toBeInstanceOf(CgroupError);
    expect(err).toMatchObject({ code: 'cgroup', limit: 'pids-limit', controller: 'pids', details: { limit: 'pids-limit', controller: 'pids' } });
    expect((err as Error).message).toBe(
      `set pids-limit in ${root}/pids: the pids controller is not available: no cgroup v1 hierarchy carries it on this host (not mounted)`,
    );
    expect(written()).toEqual([]);
  });

  it('with ignoreMissing reports the limit as skipped and applies the rest', async () => {
    const m = await setup(['cpu', 'cpuacct', 'memory', 'cpuset']);
    const applied = await m.apply('c1', limits, { ignoreMissing: true });
    expect(written()).toEqual(['cpu/corral/c1/cpu.cfs_period_us = 100000', 'cpu/corral/c1/cpu.cfs_quota_us = 50000']);
    expect(applied.at(-1)).toEqual({
      limit: 'pids-limit',
      requested: '--pids-limit 64',
      file: 'pids.max',
      value: '',
      skipped: 'the pids controller is not available: no cgroup v1 hierarchy carries it on this host (not mounted)',
    });
    expect(logs.join('\n')).toMatch(/pids-limit --pids-limit 64 not enforced: the pids controller is not available/);
  });

  it('applying nothing writes nothing', async () => {
    const m = await setup(['cpu']);
    expect(await m.apply('c1', {})).toEqual([]);
    expect(written()).toEqual([]);
  });
});

describe('v1 stats', () => {
  it('reads usage, limits, OOM kills and block io from the kernel files', async () => {
    const m = await setup();
    put(`${dir('cpuacct')}/cpuacct.usage`, '1500000000\n');
    put(`${dir('memory')}/memory.usage_in_bytes`, '1048576\n');
    put(`${dir('memory')}/memory.limit_in_bytes`, '67108864\n');
    put(`${dir('memory')}/memory.failcnt`, '7\n');
    put(`${dir('memory')}/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    await mkdir(`${dir('memory')}/nested`);
    put(`${dir('memory')}/nested/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    put(`${dir('pids')}/pids.current`, '3\n');
    put(`${dir('pids')}/pids.max`, '16\n');
    put(
      `${dir('blkio')}/blkio.throttle.io_service_bytes`,
      '254:0 Read 4096\n254:0 Write 8192\n254:0 Sync 0\n254:0 Async 0\n254:0 Total 12288\n8:0 Read 1\nTotal 12289\n',
    );
    expect(await m.stats('c1')).toEqual({
      cpu: { usageNs: 1_500_000_000 },
      memory: { usageBytes: MiB, limitBytes: 64 * MiB, oomKills: 3, limitHits: 7 },
      pids: { current: 3, limit: 16 },
      io: { readBytes: 4097, writeBytes: 8192 },
    });
    expect(await m.oomKills('c1')).toBe(3);
  });

  it('reports unlimited as null and leaves out controllers that are not mounted', async () => {
    const m = await setup(['cpu', 'memory']);
    expect(await m.stats('c1')).toEqual({ memory: { usageBytes: 0, limitBytes: null, oomKills: 0, limitHits: 0 } });
    const none = await setup(['cpu']);
    expect(await none.oomKills('c1')).toBe(0);
  });

  it('names the cgroup when it does not exist', async () => {
    const m = await setup();
    await expect(m.stats('absent')).rejects.toThrow(`read stats of ${root}/cpu/corral/absent: no such cgroup`);
  });
});

