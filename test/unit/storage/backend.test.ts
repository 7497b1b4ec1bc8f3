import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Disks, probeStorage, type HostView, type ProbeDeps } from '../../../src/storage/index.js';
import { LoopExt4, type LoopTools } from '../../../src/storage/loop-ext4.js';
import { storageCheck } from '../../../src/storage/doctor.js';
import { RecordingRunner, type RunResult } from '../../../src/system/runner.js';

const TOOLS: LoopTools = { mkfs: '/sbin/mkfs.ext4', e2fsck: '/sbin/e2fsck', resize2fs: '/sbin/resize2fs', losetup: '/sbin/losetup', mount: '/bin/mount', umount: '/bin/umount' };
const EXT4 = 0xef53;
const XFS = 0x58465342;

function probeDeps(o: { fsType?: number; config?: string; mountinfo?: string; missing?: string[]; loopControl?: boolean } = {}): ProbeDeps {
  return {
    host: { runner: new RecordingRunner(), mountinfo: async () => o.mountinfo ?? '' },
    fsType: async () => o.fsType ?? EXT4,
    kernelConfig: async () => o.config,
    filesystems: async () => 'nodev\tsysfs\n\text4\n\txfs\n',
    findProgram: async (n) => (o.missing?.includes(n) ? undefined : `/usr/sbin/${n}`),
    exists: (p) => (p === '/dev/loop-control' ? o.loopControl !== false : p === '/' || p === '/var'),
  };
}

describe('probeStorage', () => {
  it('falls back to loop-ext4 on an ext4 data root, saying why XFS and btrfs are not used', async () => {
    const p = await probeStorage('/var/lib/corral', probeDeps({ config: 'CONFIG_XFS_FS=y\n# CONFIG_XFS_QUOTA is not set\nCONFIG_EXT4_FS=y\n' }));
    expect(p.backend).toBe('loop-ext4');
    expect(p.tools?.mkfs).toBe('/usr/sbin/mkfs.ext4');
    expect(p.findings).toEqual([
      { backend: 'xfs-pquota', usable: false, detail: 'the data root is on ext4, not XFS' },
      { backend: 'btrfs-qgroup', usable: false, detail: 'the data root is on ext4, not btrfs' },
      { backend: 'loop-ext4', usable: true, detail: expect.stringContaining('sparse ext4 image') },
    ]);
    expect(storageCheck('/var/lib/corral', p)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^loop-ext4 .*not used: xfs-pquota: the data root is on ext4, not XFS; btrfs-qgroup/) });
  });

  it('names a kernel without CONFIG_XFS_QUOTA and an XFS mount without prjquota', async () => {
    const noQuota = await probeStorage('/var/lib/corral', probeDeps({ fsType: XFS, config: '# CONFIG_XFS_QUOTA is not set\n' }));
    expect(noQuota.findings[0]).toEqual({ backend: 'xfs-pquota', usable: false, detail: 'this kernel is built without CONFIG_XFS_QUOTA' });
    const mountinfo = '30 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 30 8:2 / /var rw - xfs /dev/sda2 rw,attr2,noquota\n';
    const noPrj = await probeStorage('/var/lib/corral', probeDeps({ fsType: XFS, config: 'CONFIG_XFS_QUOTA=y\n', mountinfo }));
    expect(noPrj.findings[0]).toEqual({ backend: 'xfs-pquota', usable: false, detail: '/var is not mounted with prjquota' });
  });

  it('has no backend without loop devices or e2fsprogs, and doctor says what to install', async () => {
    const noLoop = await probeStorage('/var/lib/corral', probeDeps({ loopControl: false }));
    expect(noLoop.backend).toBeNull();
    expect(noLoop.findings[2]!.detail).toMatch(/no \/dev\/loop-control/);
    const noMkfs = await probeStorage('/var/lib/corral', probeDeps({ missing: ['mkfs.ext4', 'resize2fs'] }));
    expect(noMkfs.backend).toBeNull();
    expect(noMkfs.findings[2]!.detail).toBe('missing mkfs.ext4, resize2fs (apt-get install e2fsprogs util-linux mount)');
    expect(storageCheck('/d', noMkfs)).toMatchObject({ status: 'warn', fix: expect.stringContaining('e2fsprogs') });
    const disks = new Disks({ dataRoot: '/var/lib/corral', containersDir: '/var/lib/corral/containers', host: probeDeps().host, probe: probeDeps({ missing: ['mkfs.ext4'] }) });
    await expect(disks.backend()).rejects.toThrow(/--storage-opt size: no disk-quota backend works for \/var\/lib\/corral: .*loop-ext4: missing mkfs.ext4/);
  });
});

describe('the loop-ext4 backend (recorded)', () => {
  let root: string;
  let dir: string;
  let mountinfo: string;
  let loops: { name: string; 'back-file': string }[];
  let answer: (file: string, args: readonly string[]) => Partial<RunResult>;
  let runner: RecordingRunner;
  let host: HostView;
  const calls = () => runner.calls.map((c) => [c.file, ...c.args].join(' ').replaceAll(dir, 'D'));

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'corral-disk-')));
    dir = join(root, 'containers', 'a'.repeat(64));
    mkdirSync(dir, { recursive: true });
    mountinfo = '';
    loops = [];
    answer = () => ({});
    runner = new RecordingRunner((file, args) => (file.endsWith('/losetup') && args[0] === '-J' ? { stdout: JSON.stringify({ loopdevices: loops }) } : answer(file, args)));
    host = { runner, mountinfo: async () => mountinfo };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates a sparse image of the size and makes ext4 on it without zeroing or discarding', async () => {
    await new LoopExt4(host, TOOLS).create(dir, 64 * 2 ** 20);
    const st = statSync(join(dir, 'disk.img'));
    expect(st.size).toBe(64 * 2 ** 20);
    expect(st.blocks * 512).toBeLessThan(1 * 2 ** 20);
    expect(st.mode & 0o777).toBe(0o600);
    expect(calls()).toEqual(['/sbin/mkfs.ext4 -q -F -b 4096 -m 0 -E nodiscard,assume_storage_prezeroed=1 -L corral D/disk.img']);
    // Never over an existing image.
    await expect(new LoopExt4(host, TOOLS).create(dir, 64 * 2 ** 20)).rejects.toThrow(/create disk image .*disk.img/);
  });

  it('mounts the image with a new autoclear loop device, then makes upper and work in it', async () => {
    writeFileSync(join(dir, 'disk.img'), '');
    await new LoopExt4(host, TOOLS).attach(dir);
    expect(calls()).toEqual(['/sbin/losetup -J -l', '/bin/mount -t ext4 -o discard,nodev,noatime -o loop D/disk.img D/upper-disk']);
    expect(statSync(join(dir, 'upper-disk', 'upper')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'upper-disk', 'work')).isDirectory()).toBe(true);
  });

  it('reuses a mount that is there, and the loop device a dying run still holds (never a second writer)', async () => {
    writeFileSync(join(dir, 'disk.img'), '');
    mkdirSync(join(dir, 'upper-disk'));
    mountinfo = `90 30 7:3 / ${dir}/upper-disk rw,nodev - ext4 /dev/loop3 rw,discard\n`;
    await new LoopExt4(host, TOOLS).attach(dir);
    expect(calls()).toEqual([]);
    mountinfo = '';
    loops = [{ name: '/dev/loop3', 'back-file': join(dir, 'disk.img') }];
    await new LoopExt4(host, TOOLS).attach(dir);
    expect(calls()).toEqual(['/sbin/losetup -J -l', '/bin/mount -t ext4 -o discard,nodev,noatime /dev/loop3 D/upper-disk']);
  });

  it('unmounts what is mounted, lazily when busy, and nothing when nothing is', async () => {
    await new LoopExt4(host, TOOLS).detach(dir);
    expect(calls()).toEqual([]);
    mkdirSync(join(dir, 'upper-disk'));
    mountinfo = `90 30 7:3 / ${dir}/upper-disk rw,nodev - ext4 /dev/loop3 rw,discard\n`;
    answer = (file, args) => (file === TOOLS.umount && args[0] !== '-l' ? { exitCode: 32, stderr: 'target is busy' } : {});
    await new LoopExt4(host, TOOLS).detach(dir);
    expect(calls()).toEqual(['/bin/umount D/upper-disk', '/bin/umount -l D/upper-disk']);
  });

  it('grows offline: e2fsck, the file, resize2fs; refuses while in use or to shrink', async () => {
    writeFileSync(join(dir, 'disk.img'), '');
    const loop = new LoopExt4(host, TOOLS);
    await loop.grow(dir, 128 * 2 ** 20);
    expect(statSync(join(dir, 'disk.img')).size).toBe(128 * 2 ** 20);
    expect(calls()).toEqual(['/sbin/losetup -J -l', '/sbin/e2fsck -f -y D/disk.img', '/sbin/resize2fs D/disk.img']);
    await expect(loop.grow(dir, 64 * 2 ** 20)).rejects.toThrow(/smaller than the disk \(128 MiB\); a disk only grows/);
    loops = [{ name: '/dev/loop3', 'back-file': join(dir, 'disk.img') }];
    await expect(loop.grow(dir, 256 * 2 ** 20)).rejects.toThrow(/the disk is in use; it grows while the container is stopped/);
    answer = (file) => (file === TOOLS.e2fsck ? { exitCode: 4, stderr: 'errors left uncorrected' } : {});
    loops = [];
    await expect(loop.grow(dir, 256 * 2 ** 20)).rejects.toThrow(/e2fsck .*exit 4/);
  });

  it('repair at start: unmounts disks and detaches loop devices of containers that are not running', async () => {
    const other = join(root, 'containers', 'b'.repeat(64));
    mountinfo = [
      `90 30 7:3 / ${dir}/upper-disk rw - ext4 /dev/loop3 rw`,
      `91 30 7:4 / ${other}/upper-disk rw - ext4 /dev/loop4 rw`,
      `92 30 7:5 / /elsewhere/upper-disk rw - ext4 /dev/loop5 rw`,
    ].join('\n');
    loops = [
      { name: '/dev/loop6', 'back-file': `${join(root, 'containers', `.trash-${'c'.repeat(64)}`)}/disk.img (deleted)` },
      { name: '/dev/loop4', 'back-file': `${other}/disk.img` },
      { name: '/dev/loop7', 'back-file': '/srv/other.img' },
    ];
    const disks = new Disks({ dataRoot: root, containersDir: join(root, 'containers'), host, probe: { ...probeDeps(), host } });
    const done = await disks.repair(new Set(['b'.repeat(64)]));
    expect(done).toEqual([`unmounted ${dir}/upper-disk`, `detached /dev/loop6 (${root}/containers/.trash-${'c'.repeat(64)}/disk.img)`]);
    expect(calls()).toContain('/usr/sbin/umount D/upper-disk');
    expect(calls()).toContain('/usr/sbin/losetup -d /dev/loop6');
    expect(calls().some((c) => c.includes('loop4') || c.includes('loop7') || c.includes('elsewhere'))).toBe(false);
  });
});
