import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, VolumeCreateRequest, VolumeInfo, VolumePruneReport } from '../api/types.js';
import { CorralError, fsError, InvalidStateError, isErrno, NotFoundError, ValidationError } from '../errors.js';
import { mergedArgv } from '../rootfs/merged.js';
import type { Runner } from '../system/runner.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import type { KeyedMutex } from '../util/keyed-mutex.js';
import { treeSize } from '../util/tree-size.js';

/**
 * Named volumes: `<data-root>/volumes/<name>/volume.json` and its files in `_data/`. Their files
 * keep the ids a container sees (as a template's do): a container with its own user namespace
 * mounts a volume idmapped through it, so containers with different id ranges share one volume and
 * each sees the same owners. A volume in use (named by any container's config, running or not) is
 * never removed. `create`, `rm` and a container create that names a volume hold the volume's lock.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

interface VolumeRecord {
  name: string;
  createdAt: string;
  labels: Record<string, string>;
}

export function validateVolumeName(name: string): string {
  if (!NAME.test(name)) throw new ValidationError(`invalid volume name ${JSON.stringify(name)}: use 1-64 characters from [a-zA-Z0-9_.-], starting with a letter or digit`, { name });
  return name;
}

export class Volumes {
  constructor(
    private readonly o: { dataRoot: string; locks: KeyedMutex; containers: () => readonly ContainerConfig[]; runner: Runner; unshare: string },
  ) {}

  private get root(): string {
    return join(this.o.dataRoot, 'volumes');
  }
  dir(name: string): string {
    return join(this.root, name);
  }
  dataDir(name: string): string {
    return join(this.dir(name), '_data');
  }

  /** Serialize work on these volumes (sorted, so two callers never wait on each other). */
  locked<T>(names: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(names)].sort();
    const step = (i: number): Promise<T> => (i === sorted.length ? fn() : this.o.locks.run(`volume:${sorted[i]}`, () => step(i + 1)));
    return step(0);
  }

  /** Docker's `volume create`: an existing volume is answered as is (its labels must agree). */
  async create(req: VolumeCreateRequest = {}): Promise<VolumeInfo> {
    const name = req.name === undefined || req.name === '' ? randomBytes(32).toString('hex') : validateVolumeName(req.name);
    const labels = req.labels ?? {};
    for (const [k, v] of Object.entries(labels)) if (k === '' || typeof v !== 'string') throw new ValidationError(`volume labels: ${JSON.stringify(k)} must map a non-empty key to a string`);
    return this.locked([name], async () => {
      const existing = await this.read(name);
      if (existing) {
        if (req.labels !== undefined && JSON.stringify(existing.labels) !== JSON.stringify(labels)) throw new CorralError('conflict', `volume ${name} exists with other labels`);
        return this.info(existing, false);
      }
      return this.info(await this.make(name, labels), false);
    });
  }

  /** The volume's directory; made when missing (`-v NAME:/path` creates it, as Docker's). The caller holds its lock. */
  async ensure(name: string): Promise<string> {
    if (!(await this.read(name))) await this.make(name, {});
    return this.dataDir(name);
  }

  async list(): Promise<VolumeInfo[]> {
    const names = await readdir(this.root).catch((err: unknown) => (isErrno(err, 'ENOENT') ? [] : Promise.reject(fsError('list', this.root, err))));
    const out: VolumeInfo[] = [];
    for (const n of names.filter((n) => !n.startsWith('.')).sort()) {
      const r = await this.read(n);
      if (r) out.push(this.info(r, false));
    }
    return out;
  }

  async inspect(name: string): Promise<VolumeInfo> {
    const r = await this.read(validateVolumeName(name));
    if (!r) throw new NotFoundError(`no such volume: ${name}`);
    const info = this.info(r, false);
    info.size = await treeSize(this.dataDir(name)).catch(() => 0);
    return info;
  }

  /** Refused while any container names it, whatever `force` says (Docker's rule). */
  async remove(name: string): Promise<void> {
    validateVolumeName(name);
    await this.locked([name], async () => {
      const r = await this.read(name);
      if (!r) throw new NotFoundError(`no such volume: ${name}`);
      const users = this.usedBy(name);
      if (users.length > 0) throw new InvalidStateError(`volume ${name} is in use by container${users.length > 1 ? 's' : ''} ${users.join(', ')}: remove ${users.length > 1 ? 'them' : 'it'} first`, { volume: name, containers: users });
      await this.destroy(name);
    });
  }

  /** Every volume no container names. */
  async prune(): Promise<VolumePruneReport> {
    const report: VolumePruneReport = { removed: [], spaceReclaimed: 0 };
    for (const v of await this.list()) {
      await this.locked([v.name], async () => {
        if (!(await this.read(v.name)) || this.usedBy(v.name).length > 0) return;
        report.spaceReclaimed += await treeSize(this.dataDir(v.name)).catch(() => 0);
        await this.destroy(v.name);
        report.removed.push(v.name);
      });
    }
    return report;
  }

  /**
   * Docker's copy into an empty volume: what the template has at `target` is copied in (owners,
   * modes and times kept) the first time a container mounts the volume there while it is empty.
   * The template's merged view is mounted in a private mount namespace on `scratch` (an empty
   * directory); a symlink anywhere in the template's path is refused, so nothing outside it is read.
   */
  async fillFromTemplate(name: string, layers: readonly string[], target: string, scratch: string): Promise<void> {
    const data = this.dataDir(name);
    if ((await readdir(data)).length > 0) return;
    const script = 'src="$1$2"; [ -d "$src" ] || exit 0; [ "$(realpath -e -- "$src")" = "$src" ] || { echo "$2 in the template is reached through a symlink" >&2; exit 1; }; exec cp -a -- "$src/." "$3/"';
    const { file, args } = mergedArgv(this.o.unshare, scratch, layers, (root) => ['/bin/sh', '-c', script, 'sh', root, target, data]);
    await this.o.runner.run(file, args).catch((err: unknown) => {
      throw new CorralError('internal', `copy ${target} of the template into volume ${name}: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  usedBy(name: string): string[] {
    return this.o.containers().filter((c) => c.volumes.some((v) => v.type === 'volume' && v.name === name)).map((c) => c.name).sort();
  }

  private info(r: VolumeRecord, withSize: boolean): VolumeInfo {
    return { name: r.name, driver: 'local', mountpoint: this.dataDir(r.name), createdAt: r.createdAt, labels: r.labels, usedBy: this.usedBy(r.name), size: withSize ? 0 : null };
  }

  private async read(name: string): Promise<VolumeRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir(name), 'volume.json'), 'utf8')) as VolumeRecord;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw fsError('read', join(this.dir(name), 'volume.json'), err);
    }
  }

  /** The data directory first, the record last: a volume.json names a whole volume. */
  private async make(name: string, labels: Record<string, string>): Promise<VolumeRecord> {
    const rec: VolumeRecord = { name, createdAt: new Date().toISOString(), labels };
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await mkdir(this.dir(name), { recursive: true, mode: 0o711 });
      await mkdir(this.dataDir(name), { recursive: true, mode: 0o755 });
      await atomicWriteJson(join(this.dir(name), 'volume.json'), rec);
    } catch (err) {
      throw fsError('create volume', this.dir(name), err);
    }
    return rec;
  }

  /** Renamed out of sight first, so a half-removed volume is never listed. */
  private async destroy(name: string): Promise<void> {
    const trash = join(this.root, `.trash-${name}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.dir(name), trash);
      await rm(trash, { recursive: true, force: true });
    } catch (err) {
      throw fsError('remove volume', this.dir(name), err);
    }
  }
}
