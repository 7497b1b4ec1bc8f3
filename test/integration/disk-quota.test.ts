import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, inspect, installation, stopDaemon, uniqueName } from '../support/corral.js';
import { loopDevicesUnder } from '../support/leaks.js';

/** `df -k /` inside: total and used KiB of the root filesystem. */
async function dfRoot(name: string): Promise<{ total: number; used: number }> {
  const r = await corral(['exec', name, 'df', '-k', '/']);
  expect(r.exitCode, r.stderr).toBe(0);
  const f = r.stdout.trim().split('\n').at(-1)!.trim().split(/\s+/);
  return { total: Number(f[1]), used: Number(f[2]) };
}

const MiB = 1024;
const containersDir = (): string => join(installation().dataRoot, 'containers');
const mountsOf = (id: string): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));
const loopsOf = (id: string): string[] => loopDevicesUnder(installation().dataRoot).filter((l) => l.includes(id));

describe('disk quota: --storage-opt size=', () => {
  it('holds the writable layer to the size, shows it in df, grows while stopped and leaves nothing after rm', async () => {
    const name = uniqueName('disk');
    const created = await corral(['run', '-d', '--name', name, '--storage-opt', 'size=64m', 'busybox', 'sleep', '3600']);
    expect(created.exitCode, created.stderr).toBe(0);
    const id = created.stdout.trim();
    try {
      const before = await dfRoot(name);
      // ext4 keeps a 4 MiB journal and its metadata out of the total.
      expect(before.total).toBeGreaterThan(52 * MiB);
      expect(before.total).toBeLessThanOrEqual(64 * MiB);

      const i = await inspect(name);
      expect(i.storage).toMatchObject({ backend: 'loop-ext4', sizeBytes: 64 * 2 ** 20, image: join(containersDir(), id, 'disk.img') });
      expect(i.rootfs.upper).toBe(join(containersDir(), id, 'upper-disk', 'upper'));
      expect(loopsOf(id)).toHaveLength(1);

      const big = await corral(['exec', name, 'dd', 'if=/dev/zero', 'of=/big', 'bs=1M', 'count=128']);
      expect(big.exitCode).not.toBe(0);
      expect(big.stderr + big.stdout).toMatch(/No space left on device/);
      // Still running, and it can free what it wrote.
      expect((await inspect(name)).state.status).toBe('running');
      expect((await corral(['exec', name, 'rm', '/big'])).exitCode).toBe(0);
      expect((await corral(['exec', name, 'sh', '-c', 'echo kept > /data.txt'])).exitCode).toBe(0);

      // Lowering is refused; raising a running container's disk waits for its next start.
      const lower = await corral(['update', '--storage-opt', 'size=32m', name]);
      expect(lower.exitCode).not.toBe(0);
      expect(lower.stderr).toMatch(/cannot shrink/);
      expect((await corral(['stop', '-t', '1', name])).exitCode).toBe(0);
      // Stopped: its disk is unmounted and its loop device gone.
      expect(mountsOf(id)).toEqual([]);
      expect(loopsOf(id)).toEqual([]);
      const up = await corral(['update', '--storage-opt', 'size=128m', name]);
      expect(up.exitCode, up.stderr).toBe(0);
      expect((await corral(['start', name])).exitCode).toBe(0);
      const after = await dfRoot(name);
      expect(after.total).toBeGreaterThan(116 * MiB);
      expect(after.total).toBeLessThanOrEqual(128 * MiB);
      expect((await corral(['exec', name, 'cat', '/data.txt'])).stdout).toBe('kept\n');
      expect((await inspect(name)).storage.sizeBytes).toBe(128 * 2 ** 20);
    } finally {
      await corral(['rm', '-f', name]);
    }
    expect(existsSync(join(containersDir(), id))).toBe(false);
    expect(mountsOf(id)).toEqual([]);
    expect(loopsOf(id)).toEqual([]);
  });

  it('grows a running container\'s disk at its next start, saying so', async () => {
    const name = uniqueName('disk-grow');
    expect((await corral(['run', '-d', '--name', name, '--storage-opt', 'size=32m', 'busybox', 'sleep', '3600'])).exitCode).toBe(0);
    try {
      const up = await corral(['update', '--storage-opt', 'size=48m', name]);
      expect(up.exitCode, up.stderr).toBe(0);
      expect(up.stderr).toMatch(/grows from 32 MiB to 48 MiB at its next start/);
      expect((await dfRoot(name)).total).toBeLessThanOrEqual(32 * MiB);
      const re = await corral(['restart', '-t', '1', name]);
      expect(re.exitCode, re.stderr).toBe(0);
      expect((await dfRoot(name)).total).toBeGreaterThan(40 * MiB);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it.each([
    ['size=0', /at least 16 MiB/],
    ['size=abc', /--storage-opt size/],
    ['size=1k', /at least 16 MiB/],
    ['size=15m', /at least 16 MiB/],
    ['quota=1g', /unknown storage option/],
    ['size', /expected KEY=VALUE/],
  ])('refuses --storage-opt %s at create with 125, leaving nothing behind', async (opt, message) => {
    const name = uniqueName('disk-bad');
    const before = existsSync(containersDir()) ? readdirSync(containersDir()).length : 0;
    const r = await corral(['create', '--name', name, '--storage-opt', opt, 'busybox', 'true']);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toMatch(message);
    expect((await corral(['inspect', name])).exitCode).not.toBe(0);
    expect(existsSync(containersDir()) ? readdirSync(containersDir()).length : 0).toBe(before);
  });

  it('--rm with a disk leaves no image, mount or loop device', async () => {
    const r = await corral(['run', '--rm', '--storage-opt', 'size=16m', 'busybox', 'sh', '-c', 'df -k / | tail -1']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Number(r.stdout.trim().split(/\s+/)[1])).toBeLessThanOrEqual(16 * MiB);
    expect(loopDevicesUnder(installation().dataRoot)).toEqual([]);
    expect(spawnSync('sh', ['-c', `grep -c '${installation().dataRoot}/containers/.*/upper-disk' /proc/self/mountinfo`], { encoding: 'utf8' }).stdout.trim()).toBe('0');
  });

  it('a disk left mounted for a container that is not running (a corrald that died mid-start) is released when corrald starts', async () => {
    const name = uniqueName('disk-repair');
    const created = await corral(['create', '--name', name, '--network', 'none', '--storage-opt', 'size=16m', 'busybox', 'true']);
    expect(created.exitCode, created.stderr).toBe(0);
    const id = created.stdout.trim();
    const dir = join(containersDir(), id);
    try {
      await stopDaemon();
      // What a corrald killed between mounting the disk and spawning the monitor leaves.
      mkdirSync(join(dir, 'upper-disk'), { recursive: true });
      const m = spawnSync('mount', ['-t', 'ext4', '-o', 'loop', join(dir, 'disk.img'), join(dir, 'upper-disk')], { encoding: 'utf8' });
      expect(m.status, m.stderr).toBe(0);
      expect(mountsOf(id)).toHaveLength(1);
      expect(loopsOf(id)).toHaveLength(1);
      // The next command starts corrald, whose recovery releases it.
      expect((await corral(['ps', '-a'])).exitCode).toBe(0);
      expect(mountsOf(id)).toEqual([]);
      expect(loopsOf(id)).toEqual([]);
    } finally {
      await corral(['rm', '-f', name]);
      spawnSync('umount', [join(dir, 'upper-disk')]);
    }
  });
});
