import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import type { DiskConfig, StorageBackend, StorageInfo } from '../api/types.js';
import { CorralError } from '../errors.js';
import { loopDevices, parseMountinfo, type HostView } from './host.js';
import { LoopExt4, type LoopTools } from './loop-ext4.js';
import { DISK_MOUNTPOINT, diskPaths } from './paths.js';
import { probeStorage, realProbeDeps, type ProbeDeps, type StorageProbe } from './probe.js';

export { diskPaths, DISK_IMAGE, DISK_MOUNTPOINT, type DiskPaths } from './paths.js';
export { parseStorageOpt, storageOptFromFlags, MIN_DISK_BYTES } from './size.js';
export { probeStorage, realProbeDeps, type BackendFinding, type ProbeDeps, type StorageProbe } from './probe.js';
export { realHost, type HostView } from './host.js';

/** Plain names until the probe has resolved them (an unmount needs no probe). */
const DEFAULT_TOOLS: LoopTools = { mkfs: 'mkfs.ext4', e2fsck: 'e2fsck', resize2fs: 'resize2fs', losetup: 'losetup', mount: 'mount', umount: 'umount' };

/**
 * Containers' disks (`--storage-opt size=`): the backend probed once for the data root, and each
 * disk's life: made at create, mounted for a run, unmounted when the run ends, grown while
 * stopped, repaired at corrald's start. A container without a quota never gets here.
 */
export class Disks {
  private probed: Promise<StorageProbe> | undefined;

  constructor(private readonly o: { dataRoot: string; containersDir: string; host: HostView; probe?: ProbeDeps }) {}

  probe(): Promise<StorageProbe> {
    this.probed ??= probeStorage(this.o.dataRoot, this.o.probe ?? realProbeDeps(this.o.host));
    return this.probed;
  }

  /** The backend a new disk gets; refused (with the reasons) where none works. */
  async backend(): Promise<StorageBackend> {
    const p = await this.probe();
    if (p.backend) return p.backend;
    throw new CorralError('unavailable', `--storage-opt size: no disk-quota backend works for ${this.o.dataRoot}: ${p.findings.map((f) => `${f.backend}: ${f.detail}`).join('; ')}`);
  }

  async create(dir: string, disk: DiskConfig): Promise<void> {
    await (await this.loop()).create(dir, disk.sizeBytes);
  }

  /** Mount the disk for a run; a grow asked for while it ran is done first. */
  async attach(dir: string, disk: DiskConfig, owner?: { uid: number; gid: number }): Promise<void> {
    const loop = await this.loop();
    const size = await loop.size(dir);
    if (size !== undefined && size < disk.sizeBytes) await loop.detach(dir).then(() => loop.grow(dir, disk.sizeBytes));
    await loop.attach(dir, owner);
  }

  /** Unmount a container's disk, if it has one (by its files: a broken container's config is unknown). */
  async detach(dir: string): Promise<void> {
    if (!existsSync(diskPaths(dir).image)) return;
    await (await this.loop(false)).detach(dir);
  }

  async grow(dir: string, sizeBytes: number): Promise<void> {
    await (await this.loop()).grow(dir, sizeBytes);
  }

  /** What `inspect` shows: where the writable layer lives and how big its disk is. */
  describe(dir: string, disk: DiskConfig): StorageInfo {
    const p = diskPaths(dir);
    return { backend: disk.backend, sizeBytes: disk.sizeBytes, image: p.image, mountpoint: p.mountpoint, upper: p.upper };
  }

  /**
   * corrald's start: a disk mounted for a container that is not running (a run whose exit was
   * handled by no one, a start cut short) is unmounted, and loop devices backed by an image under
   * the data root whose container is not running are detached (a busy one is cleared by the
   * kernel when its last user goes: autoclear). Returns what was done, for the log.
   */
  async repair(running: ReadonlySet<string>): Promise<string[]> {
    const done: string[] = [];
    const root = await realpath(this.o.containersDir).catch(() => undefined);
    if (!root) return done;
    const idOf = (path: string, leaf: string): string | undefined => {
      if (!path.startsWith(`${root}/`)) return undefined;
      const m = /^(?:\.trash-)?([0-9a-f]{64})$/.exec(path.slice(root.length + 1, -(leaf.length + 1)));
      return path.endsWith(`/${leaf}`) && m ? m[1] : undefined;
    };
    const loop = await this.loop(false);
    for (const m of parseMountinfo(await this.o.host.mountinfo().catch(() => ''))) {
      const id = idOf(m.mountpoint, DISK_MOUNTPOINT);
      if (id === undefined || running.has(id)) continue;
      await loop.detach(m.mountpoint.slice(0, -(DISK_MOUNTPOINT.length + 1)));
      done.push(`unmounted ${m.mountpoint}`);
    }
    const p = await this.probe();
    // A host without losetup has no loop devices of ours either.
    const devices = await loopDevices(this.o.host.runner, p.tools?.losetup ?? DEFAULT_TOOLS.losetup).catch(() => []);
    for (const d of devices) {
      const id = idOf(d.backFile, 'disk.img');
      if (id === undefined || running.has(id)) continue;
      await this.o.host.runner.run(p.tools?.losetup ?? DEFAULT_TOOLS.losetup, ['-d', d.name], { allowFailure: true });
      done.push(`detached ${d.name} (${d.backFile})`);
    }
    return done;
  }

  private async loop(needProbe = true): Promise<LoopExt4> {
    const p = needProbe ? await this.probe() : await this.probe().catch(() => undefined);
    if (needProbe && !p?.tools) await this.backend();
    return new LoopExt4(this.o.host, p?.tools ?? DEFAULT_TOOLS);
  }
}
