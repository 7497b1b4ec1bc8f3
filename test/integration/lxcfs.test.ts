import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corral, inspect, installation, stopDaemon, uniqueName, until, waitGone } from '../support/corral.js';

const KIB_256M = 262144;

/** The test installation's own lxcfs, from its pid file; checked to be ours by its command line. */
function lxcfsPid(): number {
  const inst = installation();
  const pid = Number(readFileSync(join(inst.runRoot, 'lxcfs.pid'), 'utf8').trim());
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  expect(cmdline[0]).toMatch(/lxcfs$/);
  expect(cmdline).toContain(join(inst.runRoot, 'lxcfs'));
  return pid;
}

const memTotalKiB = (meminfo: string): number => Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1]);

const hostUptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

describe('/proc that tells the tenant its own size (LXCFS)', () => {
  const names: string[] = [];
  afterAll(async () => {
    if (names.length > 0) await corral(['rm', '-f', ...names]);
  });

  // Under a private user namespace PID 1 mounts /proc (and, in a network namespace of its own,
  // /sys) after host root made the other binds: the LXCFS files must land on top of those.
  it.each([
    ['a private user namespace', []],
    ['a private user namespace and --network none (PID 1 mounts /sys)', ['--network', 'none']],
    ['--userns host', ['--userns', 'host']],
  ])('--cpus 1 -m 256m under %s: MemTotal, nproc, cpuinfo, cpu/online, uptime and loadavg are the container\'s', async (_, flags) => {
    const name = uniqueName('lxcfs-view');
    names.push(name);
    const r = await corral([
      'run', '--name', name, ...flags, '--cpus', '1', '-m', '256m', 'busybox', 'sh', '-c',
      'grep MemTotal /proc/meminfo; echo nproc=$(nproc); echo processors=$(grep -c ^processor /proc/cpuinfo); echo online=$(cat /sys/devices/system/cpu/online); echo uptime=$(cat /proc/uptime); echo loadavg=$(cat /proc/loadavg); grep -c ^cpu /proc/stat',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = r.stdout;
    expect(memTotalKiB(out)).toBeGreaterThan(0);
    expect(memTotalKiB(out)).toBeLessThanOrEqual(KIB_256M);
    expect(out).toContain('nproc=1\n');
    expect(out).toContain('processors=1\n');
    expect(out).toMatch(/^online=\d+$/m);
    const uptime = Number(/^uptime=([\d.]+) /m.exec(out)?.[1]);
    expect(uptime).toBeLessThan(60);
    expect(hostUptime()).toBeGreaterThan(uptime);
    expect(out).toMatch(/^loadavg=\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+$/m);
    // /proc/stat: the "cpu" total line and one "cpuN" line.
    expect(out.trim().split('\n').at(-1)).toBe('2');
    // The binds land on /proc and /sys, not on mount points made in the container's own layer.
    expect((await corral(['diff', name])).stdout).not.toMatch(/ \/(proc|sys)\b/);
  }, 120_000);

  it('a user other than root reads them too (lxcfs allows other users; the file is the container\'s)', async () => {
    const r = await corral(['run', '--rm', '--user', '1000', '-m', '256m', 'busybox', 'grep', 'MemTotal', '/proc/meminfo']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(memTotalKiB(r.stdout)).toBeLessThanOrEqual(KIB_256M);
  });

  it('--no-lxcfs shows the host\'s files', async () => {
    const r = await corral(['run', '--rm', '--no-lxcfs', '-m', '256m', 'busybox', 'grep', 'MemTotal', '/proc/meminfo']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(memTotalKiB(r.stdout)).toBe(memTotalKiB(readFileSync('/proc/meminfo', 'utf8')));
  });

  it('--cpus 0.5 gets a cpuset of one CPU, chosen automatically, and inspect says so', async () => {
    const name = uniqueName('lxcfs-cpuset');
    names.push(name);
    expect((await corral(['create', '--name', name, '--cpus', '0.5', 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    const c = await inspect(name);
    expect(c.config.limits.cpuset.cpus).toMatch(/^\d+$/);
    expect(c.config.limits.requested['cpuset-cpus']).toBe('from --cpus 0.5');
    expect((await corral(['start', name])).exitCode).toBe(0);
    const applied = (await inspect(name)).limits.find((l: { limit: string }) => l.limit === 'cpuset-cpus');
    expect(applied.requested).toBe('from --cpus 0.5');
    expect(applied.value).toBe(c.config.limits.cpuset.cpus);
    const r = await corral(['exec', name, 'nproc']);
    expect(r.stdout.trim()).toBe('1');
    // An automatic cpuset follows a new --cpus.
    expect((await corral(['update', '--cpus', '2', name])).exitCode).toBe(0);
    expect((await inspect(name)).config.limits.cpuset.cpus).toBe('0-1');
    expect((await corral(['exec', name, 'nproc'])).stdout.trim()).toBe('2');
  }, 120_000);

  it('running containers recover their /proc files when lxcfs is killed: corrald restarts it and rebinds', async () => {
    // One container in its own user namespace (PID 1 attached the files), one with --userns host.
    const names2 = [uniqueName('lxcfs-kill'), uniqueName('lxcfs-kill-host')];
    names.push(...names2);
    expect((await corral(['run', '-d', '--name', names2[0]!, '--cpus', '1', '-m', '256m', 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    expect((await corral(['run', '-d', '--name', names2[1]!, '--userns', 'host', '--cpus', '1', '-m', '256m', 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    for (const name of names2) {
      const before = await corral(['exec', name, 'cat', '/proc/meminfo']);
      expect(before.exitCode, before.stderr).toBe(0);
      expect(memTotalKiB(before.stdout)).toBeLessThanOrEqual(KIB_256M);
      const mounts = (await inspect(name)).mounts.filter((m: { options: string[] }) => m.options.includes('lxcfs'));
      expect(mounts.map((m: { destination: string }) => m.destination)).toContain('/proc/meminfo');
    }

    const pid = lxcfsPid();
    process.kill(pid, 'SIGKILL');
    await waitGone(pid, 30_000);
    for (const name of names2) {
      // The kernel's word: reads succeed again, and say 256 MiB again (not the host's size).
      const after = await until(`${name} to read its own /proc/meminfo again`, async () => {
        const r = await corral(['exec', name, 'cat', '/proc/meminfo']);
        return r.exitCode === 0 && memTotalKiB(r.stdout) <= KIB_256M ? r.stdout : undefined;
      }, 60_000);
      expect(memTotalKiB(after)).toBeGreaterThan(0);
      const all = await corral(['exec', name, 'cat', '/proc/cpuinfo', '/proc/stat', '/proc/uptime', '/proc/loadavg', '/proc/swaps', '/proc/diskstats', '/sys/devices/system/cpu/online']);
      expect(all.exitCode, all.stderr).toBe(0);
    }
    expect(lxcfsPid()).not.toBe(pid);
  }, 180_000);

  it('outlives a corrald that stops while a container reads through it; the next corrald adopts it', async () => {
    const name = uniqueName('lxcfs-adopt');
    names.push(name);
    expect((await corral(['run', '-d', '--name', name, '-m', '256m', 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    const pid = lxcfsPid();
    await stopDaemon();
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    // The next command starts corrald again.
    const r = await corral(['exec', name, 'grep', 'MemTotal', '/proc/meminfo']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(memTotalKiB(r.stdout)).toBeLessThanOrEqual(KIB_256M);
    expect(lxcfsPid()).toBe(pid);
  }, 120_000);
});
