import { writeFileSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ControllerMissingError, type Limits } from '../../../src/cgroups/limits.js';
import { V2CgroupManager } from '../../../src/cgroups/v2/manager.js';
import { CgroupError } from '../../../src/errors.js';
import { V2_CONTROL_FILES, addControlFiles, fakeV2, type FakeCgroupfs } from './fake-cgroupfs.js';
import { io } from './recorded-writes.js';

/** Device programs attached (the shim's part, recorded). */
const attached: { dir: string; rules: string[] }[] = [];

vi.mock('node:fs/promises', (orig) => import('./recorded-writes.js').then((m) => m.recordWrites(orig)));

const MiB = 2 ** 20;
let fake: FakeCgroupfs;
let logs: string[];
let dir: string;

async function setup(files: Record<string, string> = {}): Promise<V2CgroupManager> {
  const m = new V2CgroupManager({
    root: fake.root,
    parent: 'corral',
    rmdir: fake.rmdir,
    log: (s) => logs.push(s),
    sendSignal: () => {
      throw new Error('no signals in unit tests');
    },
    attachDevices: async (dir, rules) => void attached.push({ dir, rules: [...rules] }),
  });
  await m.create('c1');
  dir = m.paths('c1')[0]!;
  await addControlFiles(dir, { ...V2_CONTROL_FILES, ...files });
  io.writes.length = 0;
  return m;
}

beforeEach(async () => {
  fake = await fakeV2();
  logs = [];
  io.writes.length = 0;
  io.refuse = undefined;
});
afterEach(() => fake.cleanup());

const put = (p: string, s: string) => writeFileSync(p, s);
const read = (p: string) => readFile(p, 'utf8').then((s) => s.trim());
const written = () => io.writes.map((w) => `${w.path.slice(dir.length + 1)} = ${w.data}`);

describe('v2 limits: files and values', () => {
  it('writes every controller file and reports each setting', async () => {
    const m = await setup();
    const limits: Limits = {
      cpu: { quotaUs: 50000, periodUs: 100000, shares: 1024, weight: 39 },
      cpuset: { cpus: '1', mems: '0' },
      memory: { max: 256 * MiB, low: 64 * MiB, swap: 512 * MiB },
      pids: { max: 4096 },
      io: { weight: 4950, blkioWeight: 500, devices: { '254:0': { rbps: MiB, riops: 'max', requested: { rbps: '--device-read-bps /dev/vda:1mb' } } } },
      requested: { cpus: '--cpus 0.5', memory: '--memory 256m', 'memory-swap': '--memory-swap 512m' },
    };
    const applied = await m.apply('c1', limits);
    expect(written()).toEqual([
      'cpuset.cpus = 1',
      'cpuset.mems = 0',
      'cpu.max = 50000 100000',
      'cpu.weight = 39',
      'memory.max = 268435456',
      // Docker's swap is memory+swap; memory.swap.max is the swap alone.
      'memory.swap.max = 268435456',
      'memory.low = 67108864',
      'pids.max = 4096',
      'io.max = 254:0 rbps=1048576',
      'io.max = 254:0 riops=max',
      'io.weight = 4950',
    ]);
    expect(applied.find((s) => s.file.endsWith('cpu.max'))).toEqual({ limit: 'cpus', requested: '--cpus 0.5', file: `${dir}/cpu.max`, value: '50000 100000' });
    expect(applied.find((s) => s.limit === 'memory-swap')).toEqual({ limit: 'memory-swap', requested: '--memory-swap 512m', file: `${dir}/memory.swap.max`, value: '268435456' });
    expect(applied.find((s) => s.value === '254:0 rbps=1048576')?.requested).toBe('--device-read-bps /dev/vda:1mb');
    expect(await read(`${dir}/cpu.max`)).toBe('50000 100000');
  });

  it('writes unlimited as max', async () => {
    const m = await setup();
    await m.apply('c1', { cpu: { quotaUs: 'max' }, memory: { max: 'max', swap: 'max' }, pids: { max: 'max' } });
    expect(written()).toEqual(['cpu.max = max 100000', 'memory.max = max', 'memory.swap.max = max', 'pids.max = max']);
  });

  it('converts Docker cpu-shares to a weight when only shares are given', async () => {
    const m = await setup();
    await m.apply('c1', { cpu: { shares: 512 } });
    expect(written()).toEqual(['cpu.weight = 20']);
  });

  it('computes swap alone from memory.max when only the total changes', async () => {
    const m = await setup({ 'memory.max': String(100 * MiB) });
    await m.apply('c1', { memory: { swap: 150 * MiB } });
    expect(written()).toEqual([`memory.swap.max = ${50 * MiB}`]);
    await expect(m.apply('c1', { memory: { swap: 50 * MiB } })).rejects.toThrow(`set memory-swap ${50 * MiB} in ${dir}: below the memory limit`);
    put(`${dir}/memory.max`, 'max\n');
    await expect(m.apply('c1', { memory: { swap: 50 * MiB } })).rejects.toThrow('memory is unlimited; a memory+swap total needs a memory limit too');
  });

  it('reports swap as unavailable without memory.swap.max', async () => {
    const m = await setup();
    await unlink(`${dir}/memory.swap.max`);
    const applied = await m.apply('c1', { memory: { max: 64 * MiB, swap: 128 * MiB } });
    expect(written()).toEqual(['memory.max = 67108864']);
    expect(applied[1]).toMatchObject({ limit: 'memory-swap', value: '', skipped: expect.stringMatching(/^swap limits are unavailable/) });
    expect(logs).toHaveLength(1);
  });

  it('prefers io.bfq.weight on the blkio scale, as runc and crun do, and skips when neither exists', async () => {
    const m = await setup({ 'io.bfq.weight': 'default 100' });
    await m.apply('c1', { io: { weight: 4950, blkioWeight: 500 } });
    await m.apply('c1', { io: { weight: 10000 } });
    expect(written()).toEqual(['io.bfq.weight = 500', 'io.bfq.weight = 1000']);
    await unlink(`${dir}/io.bfq.weight`);
    await unlink(`${dir}/io.weight`);
    expect(await m.apply('c1', { io: { blkioWeight: 10 } })).toMatchObject([{ limit: 'blkio-weight', skipped: expect.stringMatching(/io weights are unavailable/) }]);
  });

  it('names the path and the value when the kernel refuses a write', async () => {
    const m = await setup();
    io.refuse = (p) => (p.endsWith('cpuset.cpus') ? Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' }) : undefined);
    const err = await m.apply('c1', { cpuset: { cpus: '7' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toBe(`write 7 to ${dir}/cpuset.cpus: Invalid argument (EINVAL)`);
  });
});

describe('v2 missing controllers', () => {
  const limits: Limits = { memory: { max: 64 * MiB }, pids: { max: 64 }, io: { blkioWeight: 500, weight: 4950 } };

  it('fails before writing anything, naming the limit and the controller', async () => {
    const m = await setup({ 'cgroup.controllers': 'cpu memory' });
    const err = await m.apply('c1', limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControllerMissingError);
    expect(err).toMatchObject({ limit: 'pids-limit', controller: 'pids' });
    expect((err as Error).message).toBe(
      `set pids-limit in ${dir}: the pids controller is not available: not enabled for this cgroup (its cgroup.controllers: cpu memory)`,
    );
    expect(written()).toEqual([]);
  });

  it('with ignoreMissing reports each such limit skipped and applies the rest', async () => {
    const m = await setup({ 'cgroup.controllers': 'cpu memory' });
    const applied = await m.apply('c1', limits, { ignoreMissing: true });
    expect(written()).toEqual(['memory.max = 67108864']);
    expect(applied.map((s) => [s.limit, s.skipped ? 'skipped' : s.value])).toEqual([
      ['memory', '67108864'],
      ['pids-limit', 'skipped'],
      ['blkio-weight', 'skipped'],
    ]);
    expect(logs).toHaveLength(2);
  });

  it('refuses a cgroup that does not exist', async () => {
    const m = await setup();
    await expect(m.apply('nope', { pids: { max: 1 } })).rejects.toThrow(`read ${fake.root}/corral/nope/cgroup.controllers: no such cgroup`);
  });
});

describe('v2 stats', () => {
  it('reads cpu.stat, memory.*, pids.* and io.stat', async () => {
    const m = await setup({
      'cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 3\nthrottled_usec 100',
      'memory.current': '1048576',
      'memory.max': '67108864',
      'memory.events': 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0',
      'pids.current': '5',
      'pids.max': 'max',
      'io.stat': '254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=1 wbytes=0 rios=1 wios=0 dbytes=0 dios=0',
    });
    expect(await m.stats('c1')).toEqual({
      cpu: { usageNs: 2_500_000_000 },
      memory: { usageBytes: MiB, limitBytes: 64 * MiB, oomKills: 1, limitHits: 12 },
      pids: { current: 5, limit: null },
      io: { readBytes: 4097, writeBytes: 8192 },
    });
    expect(await m.oomKills('c1')).toBe(1);
  });

  it('names the file when a limit file holds something unexpected', async () => {
    const m = await setup({ 'memory.max': 'garbage' });
    await expect(m.stats('c1')).rejects.toThrow(`read ${dir}/memory.max: not a number or max: "garbage"`);
  });

  it('leaves out controllers the cgroup does not have', async () => {
    const m = await setup({ 'cgroup.controllers': 'pids' });
    expect(await m.stats('c1')).toEqual({ cpu: { usageNs: 0 }, pids: { current: 0, limit: null } });
    expect(await m.oomKills('c1')).toBe(0);
  });
});
