import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corralWith, type CliResult, type TestInstallation } from '../support/installation.js';
import { expectQuotaHolds, sampleQuota } from '../support/cpu-quota.js';
import { CGROUP_ROOT, alive, cpuShare, rmdirCgroup, seedTemplate, sleep, startCorrald, teardown, vmState, type Corrald } from './support.js';

/**
 * The host tier's limits (test/integration/limits.test.ts), proven again on a real cgroup v2 kernel:
 * a corrald of this file's own (data and run roots on the VM's tmpfs, cgroup parent
 * `corral-vm-<pid>`), driven through the CLI. Every CLI call costs 1.5-5 s here (Node under TCG),
 * so each test does as few as it can.
 */
const base = join(vmState(), `limits-${process.pid}`);
const inst: TestInstallation = { dataRoot: join(base, 'data'), runRoot: join(base, 'run'), cgroupParent: `corral-vm-${process.pid}` };
const parentDir = join(CGROUP_ROOT, inst.cgroupParent);
let daemon: Corrald | undefined;

async function corral(args: string[]): Promise<CliResult> {
  return corralWith(inst, args, { timeoutMs: 120_000 });
}

/** `corral ARGS` that must succeed; its stdout. */
async function ok(args: string[]): Promise<string> {
  const r = await corral(args);
  if (r.exitCode !== 0) throw new Error(`corral ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function inspect(name: string): Promise<any> {
  return JSON.parse(await ok(['inspect', name]))[0];
}

const BUSY = ['sh', '-c', 'while :; do :; done'];
const read = (file: string) => readFileSync(file, 'utf8').trim();

beforeAll(async () => {
  await seedTemplate(inst.dataRoot);
  daemon = await startCorrald(inst);
}, 240_000);

afterAll(async () => {
  await teardown(inst, daemon, [
    () => rmdirCgroup(parentDir),
    () => rm(base, { recursive: true, force: true }),
  ]);
}, 240_000);

describe(`limits that hold on cgroup v2 (corrald with parent ${inst.cgroupParent})`, () => {
  it('--cpus 0.5 holds a busy loop to half a CPU (cpu.max)', async () => {
    const name = 'cpus';
    await ok(['run', '-d', '--name', name, '--cpus', '0.5', 'busybox', ...BUSY]);
    const i = await inspect(name);
    expect(i.cgroup.paths).toEqual([join(parentDir, i.id)]);
    const dir = i.cgroup.paths[0];
    expect(read(join(dir, 'cpu.max'))).toBe('50000 100000');
    const s = await sampleQuota([dir], 5000);
    console.log(`--cpus 0.5: ${s.share.toFixed(3)} of a CPU over 5 s, throttled in ${s.throttled} of ${s.periods} periods`);
    expectQuotaHolds(s, 0.5);
  }, 120_000);

  it('update --cpus 0.2 changes what is enforced, same pid; removing the container removes its cgroup', async () => {
    const name = 'cpus';
    const before = await inspect(name);
    const dir = before.cgroup.paths[0];
    await ok(['update', '--cpus', '0.2', name]);
    expect(read(join(dir, 'cpu.max'))).toBe('20000 100000');
    const s = await sampleQuota([dir], 3000);
    console.log(`after update --cpus 0.2: ${s.share.toFixed(3)} of a CPU over 3 s, throttled in ${s.throttled} of ${s.periods} periods`);
    expectQuotaHolds(s, 0.2);
    const after = await inspect(name);
    expect(after.state.pid).toBe(before.state.pid);
    expect(after.limits.find((l: any) => l.limit === 'cpus' && l.file.endsWith('cpu.max'))).toMatchObject({ requested: '--cpus 0.2' });
    expect(after.config.limitRequest.cpus).toBe('0.2');
    expect(existsSync(dir)).toBe(true);
    await ok(['rm', '-f', name]);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);

  it('leaves corrald where it was, in the real root, which is exempt from the no-internal-process rule', () => {
    expect(read(`/proc/${daemon!.pid}/cgroup`)).toBe('0::/');
    expect(existsSync(join(CGROUP_ROOT, 'init'))).toBe(false);
    expect(existsSync(join(parentDir, 'init'))).toBe(false);
    expect(daemon!.stderr()).not.toMatch(/moved/);
  });

  it('splits one CPU about 1:3 between --cpu-weight 100 and 300 (cpu.weight)', async () => {
    const [a, b] = ['w100', 'w300'];
    await ok(['run', '-d', '--name', a, '--cpuset-cpus', '0', '--cpu-weight', '100', 'busybox', ...BUSY]);
    await ok(['run', '-d', '--name', b, '--cpuset-cpus', '0', '--cpu-weight', '300', 'busybox', ...BUSY]);
    try {
      const [da, db] = [(await inspect(a)).cgroup.paths[0], (await inspect(b)).cgroup.paths[0]];
      expect([read(join(da, 'cpu.weight')), read(join(db, 'cpu.weight'))]).toEqual(['100', '300']);
      const [sa, sb] = await Promise.all([cpuShare(da, 5000), cpuShare(db, 5000)]);
      console.log(`weights 100:300 on CPU 0: ${sa.toFixed(3)} and ${sb.toFixed(3)} of a CPU, ratio ${(sb / sa).toFixed(2)}`);
      expect(sa + sb).toBeGreaterThan(0.85);
      expect(sb / sa).toBeGreaterThan(2.4);
      expect(sb / sa).toBeLessThan(3.6);
    } finally {
      await corral(['rm', '-f', a, b]);
    }
  }, 120_000);

  it('OOM-kills a container that allocates 4x its memory, alone, and says so (memory.max)', async () => {
    const name = 'oom';
    // dd's single 128 MiB buffer is filled page by page from /dev/zero: every page is charged.
    const r = await corral(['run', '--name', name, '-m', '32m', '--memory-swap', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=128M', 'count=1']);
    expect(r.exitCode).toBe(137);
    const i = await inspect(name);
    expect(i.state).toMatchObject({ status: 'exited', exitCode: 137, oomKilled: true });
    expect(i.state.oomKills).toBeGreaterThanOrEqual(1);
    expect(i.state.oomMessage).toMatch(/memory limit reached: --memory 32m \(memory\.max = 33554432 bytes\)/);
    expect(await ok(['ps', '-a'])).toMatch(new RegExp(`${name}.*Exited \\(137\\).*\\(OOM killed\\)`));
    // Alone: the kill was the container's limit, not its parent's, and corrald lives on.
    expect(read(join(parentDir, 'memory.events.local'))).toMatch(/^oom_kill 0$/m);
    expect(alive(daemon!.pid)).toBe(true);
    await ok(['rm', name]);
  }, 120_000);

  it('contains a fork bomb under --pids-limit 64 (pids.max), and the container can still be stopped', async () => {
    const name = 'forkbomb';
    await ok(['run', '-d', '--name', name, '--pids-limit', '64', 'busybox', 'sh', '-c', 'f() { f & f & }; f; sleep 1000']);
    const { paths, processes } = (await inspect(name)).cgroup;
    const dir = paths[0];
    const procDir = processes[0];
    expect(read(join(dir, 'pids.max'))).toBe('64');
    // Wait until the kernel has refused a fork (pids.events max > 0), watching the count meanwhile.
    let peak = 0;
    const deadline = Date.now() + 30_000;
    let refused = 0;
    while (refused === 0 && Date.now() < deadline) {
      peak = Math.max(peak, Number(read(join(dir, 'pids.current'))));
      // A refused fork is counted where it happened (6.1: the processes' child) or hierarchically.
      refused = Math.max(...[dir, procDir].map((d) => Number(/^max (\d+)$/m.exec(read(join(d, 'pids.events')))?.[1] ?? 0)));
      await sleep(100);
    }
    console.log(`fork bomb: ${refused} forks refused, peak pids.current ${peak}`);
    expect(refused).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(64);
    const s = JSON.parse(await ok(['stats', '--no-stream', '--format', 'json', name]))[0];
    expect(s.pids).toBeLessThanOrEqual(64);
    expect(s.pidsLimit).toBe(64);
    const t0 = Date.now();
    await ok(['stop', '-t', '1', name]);
    console.log(`fork bomb stopped in ${Date.now() - t0} ms`);
    expect((await inspect(name)).state.status).toBe('exited');
    await ok(['rm', name]);
  }, 120_000);

  it('--cpuset-cpus 0 keeps every thread on CPU 0 (cpuset.cpus)', async () => {
    const out = await ok(['run', '--rm', '--cpuset-cpus', '0', 'busybox', 'sh', '-c', 'grep Cpus_allowed_list /proc/self/status; (grep Cpus_allowed_list /proc/self/status) & wait']);
    expect(out).toBe('Cpus_allowed_list:\t0\nCpus_allowed_list:\t0\n');
  }, 120_000);
});
