import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, inspect, sleep, uniqueName } from '../support/corral.js';
import { expectQuotaHolds, sampleQuota } from '../support/cpu-quota.js';

/** CPU seconds used by the container's cgroup over `ms` of wall time (cgroup v1 cpuacct or v2 cpu.stat). */
async function cpuShare(name: string, ms: number): Promise<number> {
  const paths: string[] = (await inspect(name)).cgroup.paths;
  const read = (): number => {
    for (const p of paths) {
      if (existsSync(join(p, 'cpuacct.usage'))) return Number(readFileSync(join(p, 'cpuacct.usage'), 'utf8')) / 1e9;
      if (existsSync(join(p, 'cpu.stat')) && !existsSync(join(p, 'cpu.cfs_quota_us'))) {
        const m = /usage_usec (\d+)/.exec(readFileSync(join(p, 'cpu.stat'), 'utf8'));
        if (m) return Number(m[1]) / 1e6;
      }
    }
    throw new Error(`no cpu usage file under ${paths.join(', ')}`);
  };
  const a = read();
  const t0 = Date.now();
  await sleep(ms);
  return (read() - a) / ((Date.now() - t0) / 1000);
}

const BUSY = ['sh', '-c', 'while :; do :; done'];

describe('limits that hold', () => {
  it('--cpus 0.5 holds a busy loop to half a CPU, and update changes what is enforced', async () => {
    const name = uniqueName('cpus');
    expect((await corral(['run', '-d', '--name', name, '--cpus', '0.5', 'busybox', ...BUSY])).exitCode).toBe(0);
    try {
      expectQuotaHolds(await sampleQuota((await inspect(name)).cgroup.paths, 5000), 0.5);
      const pid = (await inspect(name)).state.pid;
      const up = await corral(['update', '--cpus', '0.2', name]);
      expect(up.exitCode).toBe(0);
      expectQuotaHolds(await sampleQuota((await inspect(name)).cgroup.paths, 3000), 0.2);
      const i = await inspect(name);
      expect(i.state.pid).toBe(pid);
      expect(i.limits.find((l: any) => l.limit === 'cpus' && /quota|cpu\.max/.test(l.file))).toMatchObject({ requested: '--cpus 0.2' });
      expect(i.config.limitRequest.cpus).toBe('0.2');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('splits one CPU about 1:3 between weights 100 and 300', async () => {
    const a = uniqueName('w100');
    const b = uniqueName('w300');
    await corral(['run', '-d', '--name', a, '--cpuset-cpus', '0', '--cpu-weight', '100', 'busybox', ...BUSY]);
    await corral(['run', '-d', '--name', b, '--cpuset-cpus', '0', '--cpu-weight', '300', 'busybox', ...BUSY]);
    try {
      const [sa, sb] = await Promise.all([cpuShare(a, 5000), cpuShare(b, 5000)]);
      const ratio = sb / sa;
      // Together they get most of CPU 0 (less when something else on the host runs there too).
      expect(sa + sb).toBeGreaterThan(0.25);
      expect(ratio).toBeGreaterThan(2.4);
      expect(ratio).toBeLessThan(3.6);
    } finally {
      await corral(['rm', '-f', a, b]);
    }
  });

  it('--cpuset-cpus 0 keeps every thread on CPU 0', async () => {
    const name = uniqueName('cpuset');
    const r = await corral(['run', '--rm', '--name', name, '--cpuset-cpus', '0', 'busybox', 'sh', '-c', 'grep Cpus_allowed_list /proc/self/status; (grep Cpus_allowed_list /proc/self/status) & wait']);
    expect(r.stdout).toBe('Cpus_allowed_list:\t0\nCpus_allowed_list:\t0\n');
  });

  it('OOM-kills a container that allocates 4x its memory, alone, and says so', async () => {
    const name = uniqueName('oom');
    // dd's single 128 MiB buffer is filled page by page from /dev/zero: every page is charged.
    const r = await corral(['run', '--name', name, '-m', '32m', '--memory-swap', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=128M', 'count=1']);
    try {
      expect(r.exitCode).toBe(137);
      const i = await inspect(name);
      expect(i.state).toMatchObject({ status: 'exited', exitCode: 137, oomKilled: true });
      expect(i.state.oomKills).toBeGreaterThanOrEqual(1);
      expect(i.state.oomMessage).toMatch(/memory limit reached: --memory 32m \((memory\.max|memory\.limit_in_bytes) = 33554432 bytes\)/);
      const ps = await corral(['ps', '-a']);
      expect(ps.stdout).toMatch(new RegExp(`${name}.*Exited \\(137\\).*\\(OOM killed\\)`));
      // The daemon and the host are fine.
      expect((await corral(['run', '--rm', 'busybox', 'true'])).exitCode).toBe(0);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('contains a fork bomb under --pids-limit 64, and the container can still be stopped', async () => {
    const name = uniqueName('forkbomb');
    await corral(['run', '-d', '--name', name, '--pids-limit', '64', 'busybox', 'sh', '-c', 'f() { f & f & }; f; sleep 1000']);
    try {
      await sleep(1500);
      const s = JSON.parse((await corral(['stats', '--no-stream', '--format', 'json', name])).stdout)[0];
      expect(s.pids).toBeLessThanOrEqual(64);
      expect(s.pidsLimit).toBe(64);
      const t0 = Date.now();
      expect((await corral(['stop', '-t', '1', name])).exitCode).toBe(0);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect((await inspect(name)).state.status).toBe('exited');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('gives every container a default pids limit', async () => {
    const name = uniqueName('pidsdef');
    await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '100']);
    try {
      expect((await inspect(name)).limits.find((l: any) => l.limit === 'pids-limit')?.value).toBe('4096');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('removing a container removes its cgroup', async () => {
    const name = uniqueName('cgrm');
    await corral(['run', '-d', '--name', name, '-m', '64m', 'busybox', 'sleep', '100']);
    const paths: string[] = (await inspect(name)).cgroup.paths;
    expect(paths.every((p) => existsSync(p))).toBe(true);
    await corral(['rm', '-f', name]);
    expect(paths.some((p) => existsSync(p))).toBe(false);
  });

  it.each([
    [['--cpus', '0'], /--cpus/],
    [['--cpus', '1000'], /--cpus/],
    [['-m', '1k'], /--memory/],
    [['-m', '64m', '--memory-swap', '32m'], /--memory-swap/],
    [['--cpuset-cpus', '63'], /--cpuset-cpus/],
    [['--pids-limit', 'lots'], /--pids-limit/],
    [['--cpu-weight', '0'], /--cpu-weight/],
    [['--device-read-bps', '/no/such/dev:1mb'], /--device-read-bps/],
    [['--oom-score-adj', '5000'], /--oom-score-adj/],
  ])('refuses %j before anything is created', async (flags, message) => {
    const before = (await corral(['ps', '-aq'])).stdout;
    const r = await corral(['run', '--rm', ...flags, 'busybox', 'true']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect((await corral(['ps', '-aq'])).stdout).toBe(before);
  });
});
