import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, installation, sh, uniqueName } from '../support/corral.js';

/** Docker's default bounding set: CHOWN … AUDIT_WRITE. */
const DOCKER_CAPS = 0x00000000a80425fbn;

describe('isolation, seen from inside a container', () => {
  it('has its own PID namespace: ps shows only the container', async () => {
    // `; true` keeps sh from exec'ing ps as PID 1.
    const out = await sh('ps -o pid,comm; true');
    const rows = out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    // ps is not always PID 2: lxcfs finds a container's init by forking a short-lived helper into its
    // pid namespace at the first read of one of its files (docs/vps.md).
    expect(rows.map((r) => r[0])[0]).toBe('1');
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r[1])).toEqual(['sh', 'ps']);
  });

  it('cannot see or signal host processes', async () => {
    const out = await sh(`kill -0 ${process.pid} 2>/dev/null && echo signalled || echo refused; ls /proc | grep -c '^[0-9]'`);
    expect(out.split('\n')[0]).toBe('refused');
    expect(Number(out.split('\n')[1])).toBeLessThanOrEqual(4);
  });

  it('has its own hostname, IPC and network namespace (loopback only with --network none)', async () => {
    const out = await sh('hostname; ls /sys/class/net; ipcs -q 2>/dev/null | grep -c 0x || true', ['--hostname', 'iso', '--network', 'none']);
    const [host, ...rest] = out.trim().split('\n');
    expect(host).toBe('iso');
    expect(rest[0]).toBe('lo');
    // The default (bridge) namespace has its veth besides.
    expect((await sh('ls /sys/class/net')).trim().split('\n')).toEqual(['eth0', 'lo']);
  });

  it('has loopback up: a server inside answers on 127.0.0.1', async () => {
    const out = await sh('httpd -p 127.0.0.1:8080 -h /etc; wget -qO- http://127.0.0.1:8080/hostname; ip link show lo | grep -o "state [A-Z]*\\|UP" | head -1', ['--hostname', 'lo-test']);
    expect(out.split('\n')[0]).toBe('lo-test');
  });

  it('is in its own cgroup namespace and cgroup', async () => {
    const name = uniqueName('cg');
    const r = await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '30']);
    expect(r.exitCode).toBe(0);
    try {
      const inspect = JSON.parse((await corral(['inspect', name])).stdout)[0];
      const pid: number = inspect.state.pid;
      for (const dir of inspect.cgroup.processes as string[]) {
        expect(dir).toContain(installation().cgroupParent);
        expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(pid));
      }
      const inside = await corral(['exec', name, 'cat', '/proc/self/cgroup']);
      for (const line of inside.stdout.trim().split('\n')) expect(line).toMatch(/:\/$/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('is pivot_rooted onto an overlay: no host path is mounted or reachable', async () => {
    const out = await sh('cat /proc/self/mountinfo; echo ---; ls /; echo ---; ls /proc/self/fd');
    const [mountinfo, listing, fds] = out.split('---\n');
    const lines = mountinfo!.trim().split('\n');
    // Listed by mount id, not by depth: mounts cloned before the root's (the LXCFS files, attached
    // by PID 1 under a user namespace) come first.
    const root = lines.filter((l) => l.split(' ')[4] === '/');
    expect(root).toHaveLength(1);
    expect(root[0]).toMatch(/ \/ \/ .* - overlay overlay /);
    expect(root[0]).toMatch(/\bnodev\b/);
    const inst = installation();
    for (const l of lines) {
      const mountPoint = l.split(' ')[4]!;
      expect(mountPoint.startsWith(inst.dataRoot)).toBe(false);
    }
    expect(listing!.split('\n')).toEqual(expect.arrayContaining(['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']));
    expect(listing).not.toMatch(/\bwork\b|\bvar\/lib\/corral\b/);
    // Only stdio and the fd of ls itself: nothing of the host is held open.
    expect(fds!.trim().split('\n').map(Number).filter((n) => n > 3)).toEqual([]);
  });

  it('has a fresh /proc, a read-only /sys and a minimal /dev', async () => {
    const out = await sh('ls /dev | sort | tr "\\n" " "; echo; touch /sys/x 2>/dev/null && echo sys-rw || echo sys-ro; grep " /proc " /proc/mounts | cut -d" " -f3');
    const [dev, sys, proc] = out.trim().split('\n');
    expect(dev!.trim().split(' ').sort()).toEqual(['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'].sort());
    expect(sys).toBe('sys-ro');
    expect(proc).toBe('proc');
    expect(await sh('echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c')).toBe('4\n4\n');
  });

  it("masks Docker's masked paths and keeps its read-only paths read-only", async () => {
    const out = await sh('if [ -e /proc/kcore ]; then wc -c < /proc/kcore; else echo 0; fi; cat /proc/keys | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/panic 2>/dev/null && echo sys-written || echo sys-refused; echo h > /proc/sysrq-trigger 2>/dev/null && echo sysrq || echo sysrq-refused');
    expect(out.trim().split('\n').map((s) => s.trim())).toEqual(['0', '0', '0', 'sys-refused', 'sysrq-refused']);
  });

  it("has at most Docker's capabilities and no_new_privs", async () => {
    expect(DOCKER_CAPS & (1n << 16n)).toBe(0n); // no CAP_SYS_MODULE
    expect(DOCKER_CAPS & (1n << 25n)).toBe(0n); // no CAP_SYS_TIME
    const out = await sh('grep -E "^(CapBnd|CapEff|CapInh|CapAmb|NoNewPrivs)" /proc/self/status');
    const f = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/:\s+/)));
    expect(BigInt(`0x${f.CapBnd}`) & ~DOCKER_CAPS).toBe(0n);
    expect(BigInt(`0x${f.CapEff}`)).toBe(BigInt(`0x${f.CapBnd}`));
    expect(f.CapInh).toBe('0000000000000000');
    expect(f.CapAmb).toBe('0000000000000000');
    expect(f.NoNewPrivs).toBe('1');
  });

  it('honours --cap-drop and gives a non-root user no capabilities', async () => {
    const drop = await sh('grep CapBnd /proc/self/status', ['--cap-drop', 'ALL']);
    expect(drop.trim()).toBe('CapBnd:\t0000000000000000');
    const user = await sh('grep CapEff /proc/self/status', ['-u', '1000']);
    expect(user.trim()).toBe('CapEff:\t0000000000000000');
  });

  it('cannot mount, load modules, set the clock, or reach host devices', async () => {
    const out = await sh([
      'mount -t tmpfs t /mnt 2>/dev/null && echo mounted || echo mount-refused',
      'mount -o remount,rw /sys 2>/dev/null && echo remounted || echo remount-refused',
      // init_module checks CAP_SYS_MODULE first; a kernel built without modules says so instead.
      'insmod /bin/busybox 2>&1 | grep -qE "not permitted|not support" && echo insmod-refused || echo insmod-other',
      // busybox date reports the failure but exits 0.
      'date -s 2001-01-01 2>&1 | grep -q "not permitted" && echo clock-refused || echo clock-set',
      // In a user namespace mknod of a device fails outright (and the devices cgroup refuses it too).
      '(mknod /tmp/sda b 8 0 2>/dev/null && head -c 1 /tmp/sda >/dev/null 2>&1) && echo disk-read || echo disk-refused',
      'mknod /dev/mem2 c 1 1 2>/dev/null; head -c 1 /dev/mem2 >/dev/null 2>&1 && echo mem-read || echo mem-refused',
      'ls /dev/kmsg /dev/mem /dev/sda 2>/dev/null | wc -l',
    ].join('; '));
    expect(out.trim().split('\n').map((s) => s.trim())).toEqual([
      'mount-refused', 'remount-refused', 'insmod-refused', 'clock-refused', 'disk-refused', 'mem-refused', '0',
    ]);
  });

  it('writes go to its own layer, never to the template or another container', async () => {
    const a = uniqueName('cow-a');
    const b = uniqueName('cow-b');
    await corral(['run', '--name', a, 'busybox', 'sh', '-c', 'echo mine > /etc/marker; rm /bin/ls']);
    try {
      const inB = await corral(['run', '--rm', '--name', b, 'busybox', 'sh', '-c', 'cat /etc/marker 2>/dev/null || echo absent; ls / >/dev/null && echo ls-ok']);
      expect(inB.stdout).toBe('absent\nls-ok\n');
      const info = JSON.parse((await corral(['template', 'inspect', 'busybox'])).stdout);
      const template = (Array.isArray(info) ? info[0] : info).path as string;
      expect(existsSync(join(template, 'etc/marker'))).toBe(false);
      expect(existsSync(join(template, 'bin/ls'))).toBe(true);
      const upper = JSON.parse((await corral(['inspect', a])).stdout)[0].rootfs.upper as string;
      expect(readFileSync(join(upper, 'etc/marker'), 'utf8')).toBe('mine\n');
    } finally {
      await corral(['rm', a]);
    }
    expect(readdirSync(join(installation().dataRoot, 'containers')).some((d) => d.includes(a))).toBe(false);
  });
});
