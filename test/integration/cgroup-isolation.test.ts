import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, inspect, installation, sh, until, uniqueName } from '../support/corral.js';

/**
 * Cgroups a container cannot reach, tried as container root would: it sits in Corral's subtree of
 * every mounted hierarchy, its cgroup namespace is rooted at its processes' cgroup below the one
 * holding its limits, and its devices cgroup allows only the nodes of its /dev.
 */

/** Hierarchies mounted on this host, as /proc/self/cgroup names them (`memory`, `name=systemd`, ``). */
function mountedHierarchies(): string[] {
  return readFileSync('/proc/self/cgroup', 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(':')[1]!);
}

/** The host's root disk as `major minor` (the block device / is on), e.g. `254 0`. */
function rootDisk(): string {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
  const dev = line?.split(' ')[2] ?? '';
  const [major, minor] = dev.split(':');
  if (major !== '0' && existsSync(`/sys/dev/block/${dev}`)) return `${major} ${minor}`;
  const any = readdirSync('/sys/dev/block').find((d) => !d.startsWith('7:')) ?? readdirSync('/sys/dev/block')[0]!;
  return any.replace(':', ' ');
}

describe('cgroups a container cannot reach', () => {
  it('puts the container in its own cgroup of EVERY mounted hierarchy, and roots each one at it', async () => {
    const name = uniqueName('cgall');
    expect((await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '600'])).exitCode).toBe(0);
    try {
      const i = await inspect(name);
      const parent = installation().cgroupParent;
      // From the host: devices, freezer, name=systemd and the cgroup2 mount too, not only those with limits.
      const lines = readFileSync(`/proc/${i.state.pid}/cgroup`, 'utf8').trim().split('\n');
      expect(lines.map((l) => l.split(':')[1])).toEqual(mountedHierarchies());
      for (const l of lines) expect(l.split(':').slice(2).join(':')).toBe(`/${parent}/${i.id}/payload`);
      // inspect: limits at paths, processes in their children.
      expect(i.cgroup.processes).toEqual(i.cgroup.paths.map((p: string) => `${p}/payload`));
      for (const dir of i.cgroup.processes as string[]) expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(i.state.pid));
      for (const dir of i.cgroup.paths as string[]) expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim()).toBe('');
      // From inside: every hierarchy's namespace root is the container's own cgroup.
      const inside = (await corral(['exec', name, 'cat', '/proc/self/cgroup'])).stdout.trim().split('\n');
      expect(inside.length).toBe(lines.length);
      for (const l of inside) expect(l).toMatch(/:\/$/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('a freezer hierarchy mounted from inside shows only the container\'s own cgroup, not the host\'s', async () => {
    const out = await sh(
      'mkdir /tmp/f && mount -t cgroup -o freezer cg /tmp/f || exit 9; ' +
        'test -e /tmp/f/freezer.state && echo not-the-root || echo hierarchy-root; ' +
        'echo dirs=$(find /tmp/f -mindepth 1 -type d | wc -l); ' +
        'echo procs=$(wc -l < /tmp/f/cgroup.procs); umount /tmp/f',
      ['--cap-add', 'SYS_ADMIN'],
    );
    // The root of the real hierarchy has no freezer.state; a child (the container's) has.
    expect(out).toContain('not-the-root');
    // No cgroup of the host or of another container below it, and only this shell and its children.
    expect(out).toContain('dirs=0');
    expect(Number(/procs=(\d+)/.exec(out)?.[1])).toBeLessThanOrEqual(4);
  });

  it('writing unlimited into the limit files it can mount does not lift the limits that hold it', async () => {
    const name = uniqueName('cgraise');
    const script = [
      'mkdir /tmp/m /tmp/c /tmp/p',
      'mount -t cgroup -o memory cg /tmp/m && mount -t cgroup -o cpu cg /tmp/c && mount -t cgroup -o pids cg /tmp/p || echo mount-failed',
      'echo -1 > /tmp/m/memory.memsw.limit_in_bytes; echo -1 > /tmp/m/memory.limit_in_bytes; echo -1 > /tmp/c/cpu.cfs_quota_us; echo max > /tmp/p/pids.max',
      'echo seen-inside=$(cat /tmp/m/memory.limit_in_bytes)',
      'dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo dd=$?',
      'echo attack-done; exec sleep 600',
    ].join('; ');
    const r = await corral(['run', '-d', '--name', name, '--cap-add', 'SYS_ADMIN', '-m', '64m', '--cpus', '0.5', '--pids-limit', '32', 'busybox', 'sh', '-c', script]);
    expect(r.exitCode).toBe(0);
    try {
      const log = await until('the attack to finish', async () => {
        const l = (await corral(['logs', name])).stdout;
        return l.includes('attack-done') ? l : undefined;
      }, 120_000);
      expect(log).not.toContain('mount-failed');
      // The 200 MiB allocation was OOM-killed (137) at the parent's 64 MiB, whatever was written inside.
      expect(log).toContain('dd=137');
      const i = await inspect(name);
      const dir = (h: string) => (i.cgroup.paths as string[]).find((p) => p.includes(`/${h}/`))!;
      expect(readFileSync(join(dir('memory'), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 * 2 ** 20));
      expect(readFileSync(join(dir('cpu'), 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
      expect(readFileSync(join(dir('pids'), 'pids.max'), 'utf8').trim()).toBe('32');
      expect(i.state.oomKilled || (i.state.oom?.kills ?? 0) > 0 || Number(/oom_kill (\d+)/.exec(readFileSync(join(dir('memory'), 'memory.oom_control'), 'utf8'))?.[1]) > 0).toBe(true);
      // What was written inside landed on the processes' child, under the limits.
      expect(readFileSync(join(dir('pids'), 'payload', 'pids.max'), 'utf8').trim()).toBe('max');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('cannot make or open a device its /dev does not have, even with CAP_MKNOD on a dev-mounted tmpfs', async () => {
    // The devices cgroup alone, without the user namespace (in which no mknod of a device works).
    const disk = rootDisk();
    const out = await sh(
      'mkdir /tmp/d && mount -t tmpfs -o dev,mode=755 none /tmp/d || exit 9; ' +
        `mknod /tmp/d/disk b ${disk} 2>&1 && echo disk-made; ` +
        'head -c 512 /tmp/d/disk 2>/dev/null | wc -c | sed s/^/disk-read=/; ' +
        'mknod /tmp/d/mem c 1 1 2>&1 && echo mem-made; ' +
        // The container's own devices keep working, through a fresh node too.
        'mknod /tmp/d/null c 1 3 && echo x > /tmp/d/null && echo null-ok; ' +
        'head -c 4 /dev/urandom | wc -c | sed s/^/urandom=/; echo tty-in-dev=$(ls /dev/ptmx /dev/pts/ptmx | wc -l); umount /tmp/d',
      ['--cap-add', 'SYS_ADMIN', '--userns', 'host'],
    );
    expect(out).not.toContain('disk-made');
    expect(out).toContain('disk-read=0');
    expect(out).not.toContain('mem-made');
    expect(out).toMatch(/mknod: \/tmp\/d\/disk: Operation not permitted/);
    expect(out).toContain('null-ok');
    expect(out).toContain('urandom=4');
  });

  it('keeps a tty working under the allow-list (pty slaves are 136:*)', async () => {
    const r = await corral(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'tty; echo hi > /dev/tty; echo ok'], { input: '' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/(pts\/\d+|console)/);
    expect(r.stdout).toContain('ok');
  });

  it('records the devices rules with the limits, where they were written', async () => {
    const name = uniqueName('cgdev');
    expect((await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '600'])).exitCode).toBe(0);
    try {
      const i = await inspect(name);
      const devices = (i.limits as { limit: string; file: string; value: string }[]).filter((s) => s.limit === 'devices');
      const dir = (i.cgroup.paths as string[]).find((p) => p.includes('/devices/'))!;
      expect(devices.map((d) => d.file)).toEqual([join(dir, 'devices.deny'), join(dir, 'devices.allow')]);
      // The kernel's own list says the same.
      const list = readFileSync(join(dir, 'devices.list'), 'utf8').trim().split('\n').sort();
      expect(list).toEqual(devices[1]!.value.split('\n').sort());
      expect(readFileSync(join(dir, 'payload', 'devices.list'), 'utf8').trim().split('\n').sort()).toEqual(list);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
