import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { NetworkError, ValidationError, fsError, isErrno } from '../errors.js';
import type { Runner } from '../system/runner.js';
import { networkFailure } from './fail.js';

/**
 * Persistent network namespaces, one file per container at `<runRoot>/netns/<id12>`, made before
 * the container's program runs (so its address, routes and veth exist when it starts) and joined
 * by the container chain with `nsenter --net=<file>` (src/network/argv.ts).
 *
 * As `ip netns add` does for /run/netns, the directory is first made a bind mount of itself and
 * private, so the nsfs bind mounts on its files never propagate to (or from) other mount namespaces.
 * Each namespace is kept alive by a bind mount of `/proc/PID/ns/net` on its file
 * (`unshare --net=<file> true`); removing it is umount + unlink. Everything is idempotent.
 */
/** A namespace for a container with its own user namespace: `corral-shim netns` makes it with these maps. */
export interface NetnsUserns {
  shim: string;
  uidMap: string;
  gidMap: string;
}

export class NetnsStore {
  readonly dir: string;
  private dirReady = false;

  constructor(
    runRoot: string,
    private readonly runner: Runner,
  ) {
    this.dir = join(runRoot, 'netns');
  }

  path(id: string): string {
    return join(this.dir, key(id));
  }

  /**
   * Create (or find) the namespace of `id`; returns its file. With `run`, that program runs inside
   * the new namespace (`unshare --net=FILE PROGRAM…`, given `input` on stdin) instead of `true`, so
   * the namespace can be configured in the same process spawn; an existing namespace is then an
   * error (the program would not run in it).
   */
  async create(id: string, o: { run?: readonly string[]; input?: string; operation?: string; userns?: NetnsUserns } = {}): Promise<string> {
    const file = this.path(id);
    await this.prepareDir();
    // A file that does not exist is no mount point: skip asking (a process spawn) on the start path.
    if (existsSync(file) && (await this.isMountpoint(file))) {
      if (o.run) throw new NetworkError(`create network namespace ${file}: it exists already`, { file });
      return file;
    }
    try {
      const fh = await open(file, 'a', 0o444);
      await fh.close();
    } catch (err) {
      throw fsError('create', file, err);
    }
    try {
      // Owned by the container's user namespace when it has one (its root then holds its
      // capabilities there); the program still runs as host root.
      const [cmd, args] = o.userns
        ? [o.userns.shim, ['netns', '--uid-map', o.userns.uidMap, '--gid-map', o.userns.gidMap, file, '--', ...(o.run ?? ['true'])]]
        : ['unshare', [`--net=${file}`, ...(o.run ?? ['true'])]];
      await this.runner.run(cmd, args, o.input !== undefined ? { input: o.input } : {});
    } catch (err) {
      // The program may have failed after the namespace was bound on the file.
      if (o.run) await this.runner.run('umount', [file], { allowFailure: true });
      await unlink(file).catch(() => {});
      throw networkFailure(o.operation ?? 'create network namespace', file, err);
    }
    return file;
  }

  /**
   * Unmount and delete `id`'s namespace file; nothing to do when it is gone. Returns true when a
   * namespace was unmounted: with no process left in it, the kernel then destroys it, and with it
   * the interfaces inside and the host ends of their veths (asynchronously, within milliseconds).
   */
  async remove(id: string): Promise<boolean> {
    const file = this.path(id);
    if (!existsSync(file)) return false;
    // One spawn: umount says so when the file is no mount point (exit 32, "not mounted").
    const r = await this.runner.run('umount', [file], { allowFailure: true });
    if (r.exitCode !== 0 && !/not mounted/.test(r.stderr)) {
      throw new NetworkError(`remove network namespace ${file}: ${r.stderr.trim().split('\n')[0] || `umount exit ${r.exitCode}`}`, { file });
    }
    try {
      await unlink(file);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw fsError('remove', file, err);
    }
    return r.exitCode === 0;
  }

  /** The short ids that have a namespace file. */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw fsError('read', this.dir, err);
    }
  }

  /** Remove the namespaces of containers not in `knownIds` (after a crash); returns the short ids removed. */
  async repair(knownIds: Iterable<string>): Promise<string[]> {
    const known = new Set([...knownIds].map(key));
    const removed: string[] = [];
    for (const k of await this.list()) {
      if (known.has(k)) continue;
      await this.remove(k);
      removed.push(k);
    }
    return removed;
  }

  /**
   * Undo the directory's bind mount and remove it, when no namespace is left (uninstall, tests).
   * Refused while namespaces exist.
   */
  async removeDir(): Promise<void> {
    const left = await this.list();
    if (left.length > 0) throw new NetworkError(`remove ${this.dir}: network namespaces left: ${left.join(' ')}`, { dir: this.dir });
    if (await this.isMountpoint(this.dir)) {
      try {
        await this.runner.run('umount', [this.dir]);
      } catch (err) {
        throw networkFailure('unmount', this.dir, err);
      }
    }
    try {
      await rmdir(this.dir);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw fsError('remove', this.dir, err);
    }
    this.dirReady = false;
  }

  private async prepareDir(): Promise<void> {
    if (this.dirReady) return;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw fsError('mkdir', this.dir, err);
    }
    if (!(await this.isMountpoint(this.dir))) {
      try {
        await this.runner.run('mount', ['--bind', this.dir, this.dir]);
        await this.runner.run('mount', ['--make-private', this.dir]);
      } catch (err) {
        throw networkFailure('make a private bind mount of', this.dir, err);
      }
    }
    this.dirReady = true;
  }

  private async isMountpoint(path: string): Promise<boolean> {
    const r = await this.runner.run('mountpoint', ['-q', path], { allowFailure: true });
    return r.exitCode === 0;
  }
}

/** The file name for an id: its first 12 characters, as for attach sockets. */
function key(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new ValidationError(`network namespace for ${JSON.stringify(id)}: not a container id`);
  return id.slice(0, 12);
}
