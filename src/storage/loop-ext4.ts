import { chown, mkdir, open, realpath, stat, truncate } from 'node:fs/promises';
import { CorralError, fsError, isErrno } from '../errors.js';
import { formatBytes } from '../util/quantity.js';
import { loopDevices, parseMountinfo, type HostView } from './host.js';
import { diskPaths } from './paths.js';

/** The programs the loop-ext4 backend runs, as absolute paths (resolved once by the probe). */
export interface LoopTools {
  mkfs: string;
  e2fsck: string;
  resize2fs: string;
  losetup: string;
  mount: string;
  umount: string;
}

/**
 * A sparse ext4 image per container (`<dir>/disk.img`), loop-mounted on `<dir>/upper-disk` in the
 * host's mount namespace from start to exit; the overlay's upper and work directories live in it,
 * so the writable layer cannot outgrow the image and `df /` inside shows its size. `mount -o loop`
 * sets autoclear, so the loop device goes with the last unmount (the container's namespace holds
 * the filesystem until its last process is gone). `discard` gives freed blocks back to the data
 * root. ext4 grows online only with CAP_SYS_RESOURCE in the resizing process, so a grow is done
 * offline (e2fsck + resize2fs) while the container is stopped.
 */
export class LoopExt4 {
  constructor(
    private readonly host: HostView,
    private readonly tools: LoopTools,
  ) {}

  /** Make the image (sparse: it takes blocks as the container writes) and its filesystem. */
  async create(dir: string, sizeBytes: number): Promise<void> {
    const p = diskPaths(dir);
    try {
      const fh = await open(p.image, 'wx', 0o600);
      try {
        await fh.truncate(sizeBytes);
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw fsError('create disk image', p.image, err);
    }
    // A new sparse file reads as zeros: mkfs need not zero inode tables or journal, nor discard.
    await this.host.runner.run(this.tools.mkfs, ['-q', '-F', '-b', '4096', '-m', '0', '-E', 'nodiscard,assume_storage_prezeroed=1', '-L', 'corral', p.image]);
  }

  /** Mount the image for a run and make sure upper/ and work/ exist in it. Idempotent. */
  async attach(dir: string, owner?: { uid: number; gid: number }): Promise<void> {
    const p = diskPaths(dir);
    if (!(await this.isMounted(p.mountpoint))) {
      const image = await realpath(p.image).catch((err: unknown) => {
        throw fsError('mount disk image', p.image, err);
      });
      const holders = (await loopDevices(this.host.runner, this.tools.losetup)).filter((d) => d.backFile === image && !d.deleted);
      if (holders.length > 1) throw new CorralError('invalid_state', `mount ${p.image}: attached to ${holders.map((h) => h.name).join(', ')} at once; detach them (losetup -d) and start again`, { path: p.image });
      await mkdir(p.mountpoint, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
        throw fsError('create', p.mountpoint, err);
      });
      // A second loop device on one image would be a second writer: if the last run's filesystem
      // is still held (its namespace is going away), mounting its device again finds the same
      // superblock instead.
      const source = holders[0] ? [holders[0].name] : ['-o', 'loop', p.image];
      await this.host.runner.run(this.tools.mount, ['-t', 'ext4', '-o', 'discard,nodev,noatime', ...source, p.mountpoint]);
    }
    try {
      // The upper dir becomes the container's "/": world-readable like any root.
      const made = await mkdir(p.upper, { mode: 0o755 }).then(() => true, (err: unknown) => (isErrno(err, 'EEXIST') ? false : Promise.reject(err)));
      // A new upper layer's top is the container's "/": owned by its root (a host id of its range).
      if (made && owner) await chown(p.upper, owner.uid, owner.gid);
      await mkdir(p.work, { mode: 0o700 }).catch((err: unknown) => (isErrno(err, 'EEXIST') ? undefined : Promise.reject(err)));
    } catch (err) {
      throw fsError('create', p.upper, err);
    }
  }

  /**
   * Unmount the host's mount of the image, if there is one. A busy mount (a reader on the host)
   * is detached lazily: it goes, and the loop device with it, when the reader lets go.
   */
  async detach(dir: string): Promise<void> {
    const p = diskPaths(dir);
    if (!(await this.isMounted(p.mountpoint))) return;
    const r = await this.host.runner.run(this.tools.umount, [p.mountpoint], { allowFailure: true });
    if (r.exitCode !== 0) await this.host.runner.run(this.tools.umount, ['-l', p.mountpoint]);
  }

  /** Grow the filesystem to `sizeBytes`; the image must not be in use (offline resize). */
  async grow(dir: string, sizeBytes: number): Promise<void> {
    const p = diskPaths(dir);
    const image = await realpath(p.image).catch((err: unknown) => {
      throw fsError('resize disk image', p.image, err);
    });
    if ((await this.isMounted(p.mountpoint)) || (await loopDevices(this.host.runner, this.tools.losetup)).some((d) => d.backFile === image && !d.deleted)) {
      throw new CorralError('invalid_state', `resize ${p.image}: the disk is in use; it grows while the container is stopped`, { path: p.image });
    }
    const current = (await stat(p.image)).size;
    if (sizeBytes < current) throw new CorralError('validation', `resize ${p.image}: ${formatBytes(sizeBytes)} is smaller than the disk (${formatBytes(current)}); a disk only grows`);
    // resize2fs insists on a clean, freshly checked filesystem. e2fsck: 0 clean, 1 errors fixed.
    const fsck = await this.host.runner.run(this.tools.e2fsck, ['-f', '-y', p.image], { allowFailure: true });
    if (fsck.exitCode > 1) throw new CorralError('command_failed', `e2fsck ${p.image}: exit ${fsck.exitCode}: ${(fsck.stderr || fsck.stdout).split('\n')[0] ?? ''}`, { path: p.image });
    try {
      await truncate(p.image, sizeBytes);
    } catch (err) {
      throw fsError('resize disk image', p.image, err);
    }
    // Without a size, resize2fs grows the filesystem to the file's size.
    await this.host.runner.run(this.tools.resize2fs, [p.image]);
  }

  /** The image's size (what the filesystem was made or grown to). */
  async size(dir: string): Promise<number | undefined> {
    return stat(diskPaths(dir).image).then((s) => s.size, () => undefined);
  }

  private async isMounted(mountpoint: string): Promise<boolean> {
    // mountinfo names the path the kernel resolved (a data root under a symlink differs).
    const real = await realpath(mountpoint).catch(() => mountpoint);
    return parseMountinfo(await this.host.mountinfo()).some((m) => m.mountpoint === real);
  }
}
