import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCgroupManager } from '../../src/cgroups/detect.js';
import type { AppliedSetting } from '../../src/cgroups/limits.js';
import type { CgroupManager } from '../../src/cgroups/manager.js';
import { writeCgroupFile } from '../../src/cgroups/write.js';
import { expectQuotaHolds, sampleQuota } from '../support/cpu-quota.js';
import { DEFAULT_PATHS } from '../../src/config.js';
import { type HostResources, type LimitFlagValues, limitsFromFlags, readHostResources } from '../../src/runtime/limits.js';

/**
 * Limits on this host's real cgroups (v1 hierarchies on the development machine, cgroup2 in the VM
 * tier), in a parent of the test's own, `corral-limtest-<pid>`, removed afterwards whatever
 * happens. Each workload starts blocked on stdin, is moved into the cgroup, and only then execs
 * its program, as a container's program only runs once its cgroup holds it. Needs root.
 */
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('\n*** SKIPPED test/integration/limits-cgroup.test.ts: creating cgroups needs root (run as root) ***\n');

const parent = `corral-limtest-${process.pid}`;
const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const read = (p: string) => readFile(p, 'utf8').then((s) => s.trim());

/** A block device of this host for the throttle flags: the first disk in /proc/partitions with a /dev node. */
async function someBlockDevice(): Promise<string | undefined> {
  const lines = (await read('/proc/partitions')).split('\n').slice(1);
  for (const l of lines) {
    const name = l.trim().split(/\s+/)[3];
    if (name && !/^(loop|ram|zram)/.test(name) && existsSync(`/dev/${name}`)) return `/dev/${name}`;
  }
  return undefined;
}

describe.skipIf(!isRoot)(`limits on this host's cgroups (parent ${parent})`, () => {
  let m: CgroupManager;
  let host: HostResources;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    m = await createCgroupManager({ ...DEFAULT_PATHS, cgroupParent: parent }, { log: (s) => console.warn(s) });
    host = await readHostResources();
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (!m) return;
    for (const id of await m.list().catch(() => [])) {
      await m.kill(id).catch((e: unknown) => console.warn(`cleanup kill ${id}: ${String(e)}`));
      await m.remove(id).catch((e: unknown) => console.warn(`cleanup remove ${id}: ${String(e)}`));
    }
    await m.removeParent().catch((e: unknown) => console.warn(`cleanup removeParent: ${String(e)}`));
  });

  /** A new container cgroup with limits from Docker flags, as `corral run` would set them. */
  async function container(id: string, flags: LimitFlagValues): Promise<AppliedSetting[]> {
    await m.create(id);
    return m.apply(id, await limitsFromFlags(flags, host));
  }

  /** Start argv inside the container's cgroup: it waits on stdin until its pid has been moved. */
  async function startIn(id: string, argv: string[]): Promise<{ child: ChildProcess; stderr: () => string; exit: Promise<NodeJS.Signals | number> }> {
    const child = spawn('sh', ['-c', 'read go && exec "$@"', 'sh', ...argv], { stdio: ['pipe', 'ignore', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<NodeJS.Signals | number>((r) => child.once('exit', (code, sig) => r(sig ?? code ?? -1)));
    for (const f of m.procsFiles(id)) await writeCgroupFile(f, child.pid!);
    expect(await m.pids(id)).toEqual([child.pid]);
    child.stdin!.write('go\n');
    return { child, stderr: () => err, exit };
  }

  it('writes every limit, and the kernel files read back what was written', async () => {
    const dev = await someBlockDevice();
    if (!dev) console.warn('*** no block device with a /dev node here: device throttles not exercised ***');
    const applied = await container('readback', {
      cpus: '0.5',
      cpuShares: '512',
      cpusetCpus: '0',
      cpusetMems: '0',
      memory: '64m',
      memoryReservation: '32m',
      memorySwap: '128m',
      pidsLimit: '16',
      blkioWeight: '500',
      ...(dev ? { deviceReadBps: [`${dev}:1mb`], deviceWriteIops: [`${dev}:100`] } : {}),
    });
    console.log(applied.map((s) => `${s.limit}: ${s.requested} → ${s.skipped ? `skipped (${s.skipped})` : `${s.file} = ${s.value}`}`).join('\n'));
    const written = applied.filter((s) => !s.skipped);
    const limitsCovered = new Set(written.map((s) => s.limit));
    for (const l of ['cpus', 'cpu-weight', 'cpuset-cpus', 'cpuset-mems', 'memory', 'memory-reservation', 'pids-limit'] as const) expect(limitsCovered, l).toContain(l);
    for (const s of written) {
      const back = await read(s.file);
      if (s.file.includes('.throttle.')) expect(back.split('\n'), s.file).toContain(s.value);
      else if (s.file.endsWith('/io.max')) {
        // One line per device with every key: `254:0 rbps=1048576 wbps=max riops=max wiops=100`.
        const [device, kv] = s.value.split(' ');
        expect(back.split('\n').find((l) => l.startsWith(`${device} `))?.split(' '), s.file).toContain(kv);
      } else expect(back, s.file).toBe(s.value);
    }
    const byFile = (name: string) => written.find((s) => s.file.endsWith(`/${name}`))?.value;
    if (m.driver === 'v1') {
      expect(byFile('cpu.cfs_quota_us')).toBe('50000');
      expect(byFile('cpu.cfs_period_us')).toBe('100000');
      expect(byFile('cpu.shares')).toBe('512');
      expect(byFile('memory.limit_in_bytes')).toBe(String(64 * MiB));
      expect(byFile('memory.soft_limit_in_bytes')).toBe(String(32 * MiB));
      expect(byFile('pids.max')).toBe('16');
      const memsw = applied.find((s) => s.limit === 'memory-swap')!;
      if (memsw.skipped) console.warn(`*** ${memsw.skipped} ***`);
      else expect(memsw.value).toBe(String(128 * MiB));
    } else {
      expect(byFile('cpu.max')).toBe('50000 100000');
      expect(byFile('memory.max')).toBe(String(64 * MiB));
    }
    const weight = applied.find((s) => s.limit === 'blkio-weight')!;
    if (weight.skipped) console.warn(`*** blkio weight not available here: ${weight.skipped} ***`);
    expect((await m.stats('readback')).pids).toEqual({ current: 0, limit: 16 });
  });

  it('changes memory and swap live, up and down, in an order the kernel accepts', async () => {
    await container('update', { memory: '64m', memorySwap: '128m' });
    const update = async (memory: string, memorySwap: string) => m.apply('update', await limitsFromFlags({ memory, memorySwap }, host, { defaults: false }));
    for (const [memory, swap] of [
      ['256m', '512m'],
      ['32m', '48m'],
      ['128m', '128m'],
    ] as const) {
      const applied = await update(memory, swap);
      const mem = applied.find((s) => s.limit === 'memory')!;
      expect(await read(mem.file)).toBe(mem.value);
      const sw = applied.find((s) => s.limit === 'memory-swap')!;
      if (!sw.skipped) expect(await read(sw.file)).toBe(sw.value);
    }
    expect((await m.stats('update')).memory?.limitBytes).toBe(128 * MiB);
  });

  it('--cpus 0.5 holds a busy loop to half a CPU (cpu usage over 3 s)', async () => {
    await container('cpu', { cpus: '0.5' });
    const { child } = await startIn('cpu', ['sh', '-c', 'while :; do :; done']);
    await sleep(300);
    const s = await sampleQuota(m.paths('cpu'), 3000);
    console.log(`busy loop under --cpus 0.5: ${(s.share * 100).toFixed(1)} % of a CPU, throttled in ${s.throttled} of ${s.periods} periods`);
    expectQuotaHolds(s, 0.5);
    child.kill('SIGKILL');
    await m.kill('cpu');
  });

  it('a process touching 4x its memory limit is OOM-killed, and oomKills() counts it', async () => {
    // dd's buffer is one bs-sized allocation that read(2) from /dev/zero fills page by page, so
    // every page is really charged: 128 MiB against a 32 MiB limit, with no swap to spill into.
    // Bounded: if the limit did not hold, dd would finish and exit 0 after using 128 MiB.
    await container('oom', { memory: '32m' });
    expect(await m.oomKills('oom')).toBe(0);
    const { exit } = await startIn('oom', ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=128M', 'count=1']);
    expect(await exit).toBe('SIGKILL');
    expect(await m.oomKills('oom')).toBe(1);
    const stats = await m.stats('oom');
    expect(stats.memory).toMatchObject({ limitBytes: 32 * MiB, oomKills: 1 });
    expect(stats.memory!.limitHits).toBeGreaterThan(0);
  });

  it('pids.max 16 stops a fork loop', async () => {
    await container('pids', { pidsLimit: '16' });
    const { stderr, exit } = await startIn('pids', ['sh', '-c', 'i=0; while [ $i -lt 64 ]; do sleep 60 & i=$((i+1)); done; echo spawned all >&2; wait']);
    const deadline = Date.now() + 10_000;
    while (!/fork/i.test(stderr()) && !stderr().includes('spawned all') && Date.now() < deadline) await sleep(50);
    const stats = await m.stats('pids');
    console.log(`fork loop under pids.max 16: ${stats.pids?.current} tasks; shell said: ${stderr().trim().split('\n')[0]}`);
    expect(stderr()).toMatch(/fork/i);
    expect(stderr()).not.toContain('spawned all');
    expect(stats.pids).toMatchObject({ limit: 16 });
    expect(stats.pids!.current).toBeLessThanOrEqual(16);
    // v1 counts a refused fork in the forking task's cgroup (the processes' child), not where the limit is.
    const pidsDir = m.paths('pids').find((p) => p.includes('/pids/')) ?? m.paths('pids')[0]!;
    const events = [await read(`${pidsDir}/pids.events`).catch(() => ''), await read(`${pidsDir}/payload/pids.events`).catch(() => '')];
    if (events.some(Boolean)) expect(events.reduce((n, e) => n + Number(/max (\d+)/.exec(e)?.[1] ?? 0), 0)).toBeGreaterThan(0);
    await m.kill('pids');
    await exit;
  });
});
