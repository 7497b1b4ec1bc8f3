import { closeSync, constants } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ContainerConfig, CopyInResult, PathStat } from '../../api/types.js';
import { CorralError, describe, InvalidStateError, isErrno, NotFoundError, ValidationError } from '../../errors.js';
import { forEachEntry } from '../../rootfs/archive/extract.js';
import { entryComponents } from '../../rootfs/archive/entry-path.js';
import { ArchiveError } from '../../rootfs/archive/errors.js';
import { fsNodes } from '../../rootfs/archive/fsnodes.js';
import type { ExtractLimits } from '../../rootfs/archive/limits.js';
import { packTree } from '../../rootfs/archive/tar-writer.js';
import { TreeWriter } from '../../rootfs/archive/tree-writer.js';
import { etcBinds } from '../etc-files.js';
import { holdArgv, holdRoot } from '../hold.js';
import type { Runtime } from './context.js';
import { stateOf } from './inspect.js';

/**
 * `corral cp`, Docker's archive API: a path in a container as a tar stream, and a tar stream
 * written into a directory of a container. Whatever the container planted, nothing outside its
 * root is read or written:
 * - the user's path is resolved with openat2(RESOLVE_IN_ROOT) below the container's root (symlinks
 *   and `..` stop at it), and what is below that fd is walked without following any symlink
 *   (packTree; TreeWriter, the importer's hostile-archive rules);
 * - a running container is frozen while its files are read or written (as Docker does since
 *   CVE-2018-15664), so nothing is swapped for a symlink between a check and its use;
 * - a container that is not running gets its root mounted by `corral-shim hold`, as its start
 *   would mount it, for the copy's length (its lock is held: it cannot start meanwhile).
 * Ownership: files copied in belong to the container's root (its range's first host id), or with
 * `archive` keep the archive's ids, mapped into the container's range; ids copied out are shown as
 * the container sees them.
 */

const O_PATH = 0o10000000;

export interface CopyOutResult {
  stat: PathStat;
  /** The tar stream; the container stays locked (and frozen) until it ends or release() is called. */
  body: AsyncGenerator<Buffer>;
  release(): void;
}

/** Where `path` (absolute, or relative to the workdir) is, as components, and whether it names a directory's contents (`dir/.`) or must be one (`dir/`). */
export function containerCopyPath(c: Pick<ContainerConfig, 'workdir'>, path: string): { path: string; dirOnly: boolean; contents: boolean } {
  if (path === '' || path.includes('\0')) throw new ValidationError(`cp: invalid path ${JSON.stringify(path)} in the container`);
  const abs = posix.resolve(c.workdir, path);
  return { path: abs, dirOnly: /\/\.?$/.test(path), contents: /(^|\/)\.$/.test(path) };
}

export async function statPath(rt: Runtime, ref: string, path: string): Promise<PathStat> {
  return withRoot(rt, ref, async (root, c) => {
    const at = await locate(root, c, path);
    try {
      return await statOf(at.path, at.name);
    } finally {
      at.close();
    }
  });
}

export async function copyOut(rt: Runtime, ref: string, path: string): Promise<CopyOutResult> {
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let started!: (r: CopyOutResult | Error) => void;
  const result = new Promise<CopyOutResult | Error>((resolve) => (started = resolve));
  // The root is held while the body is read: the body's end (or abandonment) releases it.
  const held = withRoot(rt, ref, async (root, c) => {
    const at = await locate(root, c, path);
    try {
      const stat = await statOf(at.path, at.name);
      const { contents } = containerCopyPath(c, path);
      if (contents && stat.type !== 'directory') throw new ValidationError(`cp: ${path}: not a directory`);
      const ids = idsOut(c);
      const body = (async function* () {
        try {
          yield* packTree(at.path, contents ? '' : at.name === '/' ? '.' : at.name, { ids });
        } finally {
          done();
        }
      })();
      started({ stat, body, release: done });
      await finished;
    } finally {
      at.close();
    }
  });
  held.catch((err: unknown) => started(err instanceof Error ? err : new Error(String(err))));
  const r = await result;
  if (r instanceof Error) throw r;
  return r;
}

export async function copyIn(rt: Runtime, ref: string, path: string, body: AsyncIterable<Buffer>, opts: { archive?: boolean; limits?: Partial<ExtractLimits> } = {}): Promise<CopyInResult> {
  return withRoot(rt, ref, async (root, c) => {
    const { path: abs } = containerCopyPath(c, path);
    let fd: number;
    try {
      fd = fsNodes().openInRoot(root, abs, O_PATH | constants.O_DIRECTORY);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`cp: ${abs}: no such directory in container ${c.name}`);
      if (isErrno(err, 'ENOTDIR')) throw new ValidationError(`cp: ${abs} in container ${c.name} is not a directory`);
      throw new CorralError('internal', `cp: open ${abs} in container ${c.name}: ${describe(err)}`);
    }
    try {
      const ids = idsIn(c, opts.archive === true);
      const warnings: string[] = [];
      const writer = new TreeWriter(`/proc/self/fd/${fd}`, { keepDirectories: true, implicitDir: async () => ({ mode: 0o755, ...ids(0, 0) }), warn: (w) => warnings.push(w) });
      await forEachEntry(body, opts.limits, async (entry, data) => {
        const parts = entryComponents(entry.name);
        // The destination directory itself is the user's: its owner and mode are not the archive's.
        if (parts.length === 0) {
          for await (const _ of data) void _;
          return;
        }
        const owner = ids(entry.uid, entry.gid, entry.name);
        await writer.write({ ...entry, ...owner }, data, parts);
      });
      await writer.finish();
      return { entries: writer.entries, bytes: writer.bytes, warnings: [...warnings, ...writer.summary()] };
    } catch (err) {
      if (err instanceof ArchiveError) throw new ValidationError(`cp into ${c.name}:${abs}: ${err.message}`);
      throw err;
    } finally {
      closeSync(fd);
    }
  });
}

/** Host ids of what is copied in: the container's root, or the archive's ids inside its range. */
function idsIn(c: ContainerConfig, keep: boolean): (uid: number, gid: number, entry?: string) => { uid: number; gid: number } {
  const u = c.userns;
  return (uid, gid, entry) => {
    const [cu, cg] = keep ? [uid, gid] : [0, 0];
    if (u.mode === 'host') return { uid: cu, gid: cg };
    if (cu >= u.size || cg >= u.size) throw new ValidationError(`cp -a: ${entry ?? ''} is owned by ${cu}:${cg}, outside the container's user namespace (ids 0-${u.size - 1})`);
    return { uid: u.uidBase + cu, gid: u.gidBase + cg };
  };
}

/** Ids as the container sees them: its range's host ids back to 0…; others are `nobody` (65534), as the kernel shows them inside. */
function idsOut(c: ContainerConfig): ((uid: number, gid: number) => { uid: number; gid: number }) | undefined {
  const u = c.userns;
  if (u.mode === 'host') return undefined;
  const back = (id: number, base: number) => (id >= base && id < base + u.size ? id - base : 65534);
  return (uid, gid) => ({ uid: back(uid, u.uidBase), gid: back(gid, u.gidBase) });
}

interface Located {
  /** A host path that names the entry (through /proc/self/fd). */
  path: string;
  name: string;
  close(): void;
}

/**
 * The entry `path` names: its parent resolved in the root (symlinks followed inside it), the last
 * component not followed, unless the path ends in `/` or `/.` (Docker's rule: then it is followed).
 */
async function locate(root: string, c: ContainerConfig, path: string): Promise<Located> {
  const p = containerCopyPath(c, path);
  const open = (rel: string, flags: number): number => {
    try {
      return fsNodes().openInRoot(root, rel, O_PATH | flags);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw new NotFoundError(`cp: no such file or directory in container ${c.name}: ${p.path}`);
      throw new CorralError('internal', `cp: open ${p.path} in container ${c.name}: ${describe(err)}`);
    }
  };
  if (p.path === '/' || p.dirOnly) {
    const fd = open(p.path, constants.O_DIRECTORY);
    // `/.`: the directory the fd names (the fd's own path is a magic link, which lstat would report).
    return { path: `/proc/self/fd/${fd}/.`, name: p.path === '/' ? '/' : posix.basename(p.path), close: () => closeSync(fd) };
  }
  const fd = open(posix.dirname(p.path), constants.O_DIRECTORY);
  const name = posix.basename(p.path);
  const at = `/proc/self/fd/${fd}/${name}`;
  const exists = await lstat(at).then(
    () => true,
    (err: unknown) => (isErrno(err, 'ENOENT') ? false : Promise.reject(err)),
  );
  if (!exists) {
    closeSync(fd);
    throw new NotFoundError(`cp: no such file or directory in container ${c.name}: ${p.path}`);
  }
  return { path: at, name, close: () => closeSync(fd) };
}

async function statOf(path: string, name: string): Promise<PathStat> {
  const st = await lstat(path);
  const type = st.isDirectory() ? 'directory' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { name, type, size: st.size, mode: st.mode & 0o7777, mtime: st.mtime.toISOString(), linkTarget: type === 'symlink' ? await readlink(path) : '' };
}

/**
 * Run `fn` with a host path to the container's root directory, under the container's lock: a
 * running container's (its PID 1's root, frozen meanwhile unless it was paused), or a stopped
 * one's mounted by `corral-shim hold`.
 */
async function withRoot<T>(rt: Runtime, ref: string, fn: (root: string, c: ContainerConfig) => Promise<T>): Promise<T> {
  const c = rt.resolve(ref);
  return rt.locks.run(c.id, async () => {
    const s = await stateOf(rt, c.id);
    if (s.status === 'running') {
      const r = await rt.store.readRuntime(c.id);
      if (!r || !(await rt.processes.isAlive(r.pid, r.pidStartTime))) throw new InvalidStateError(`cp: container ${c.name} is exiting; try again once it has stopped`);
      const wasFrozen = await rt.deps.cgroups.frozen(c.id).catch(() => false);
      if (!wasFrozen) await rt.deps.cgroups.freeze(c.id);
      try {
        return await fn(`/proc/${r.pid}/root`, c);
      } finally {
        if (!wasFrozen) await rt.deps.cgroups.thaw(c.id).catch((err: unknown) => rt.log.warn('cp: cannot thaw the container', { id: c.id, err: String(err) }));
      }
    }
    if (c.storage) throw new InvalidStateError(`cp: container ${c.name} has a disk of its own (--storage-opt size), which is mounted only while it runs: start it to copy`);
    const template = await rt.deps.templates.resolve(c.template);
    const layout = { lower: template.layers, ...rt.store.layout(c.id, c) };
    const held = await holdRoot(rt.deps.shim, holdArgv(c, layout, etcBinds(rt.store, c)), layout.mountpoint);
    try {
      return await fn(held.root, c);
    } finally {
      await held.release();
    }
  });
}
