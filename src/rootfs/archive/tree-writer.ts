import { constants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, isErrno } from '../../errors.js';
import { checkSymlinkTarget, entryComponents } from './entry-path.js';
import { ArchiveError } from './errors.js';
import { fsNodes, S_IFCHR, S_IFIFO } from './fsnodes.js';
import type { TarEntry } from './tar-reader.js';

/** Extended attributes taken from archives; everything else (trusted.overlay.* above all) is dropped. */
export const KEPT_XATTRS = new Set(['security.capability']);

export interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
}

export interface TreeWriterOptions {
  /** Metadata for a parent directory the archive never lists (default 0755 root:root). */
  implicitDir?: (rel: string) => Promise<DirMeta | undefined>;
  /** Hardlinks may name files written before this writer (flattening onto earlier layers). */
  warn?: (message: string) => void;
  /** Refuse to replace an existing directory with a non-directory (`corral cp`: Docker's rule) instead of removing it. */
  keepDirectories?: boolean;
  /** Overlay whiteouts (0:0 character devices) are written, not skipped (a backup's upper layer). */
  whiteouts?: boolean;
  /** Extended attributes kept instead of KEPT_XATTRS. */
  keepXattrs?: ReadonlySet<string>;
}

/**
 * Writes tar members below `root`, a fresh directory that only this writer changes. The rules
 * that keep every write inside it:
 * - names are components without `..`, checked before anything is touched (entry-path.ts);
 * - every parent directory is lstat'ed (once, then remembered) and must be a real directory: a
 *   symlink is never followed, whatever wrote it; missing parents are made as directories;
 * - an existing entry is removed before a new one is made, and files are created O_EXCL|O_NOFOLLOW,
 *   so nothing is written into an inode that another name (a hardlink) shares;
 * - metadata calls that would follow a symlink (chmod, utimes) are only made on what was just
 *   created or lstat'ed as a directory, or use the l* variants.
 * Duplicate members: the later one wins, as with tar.
 */
export class TreeWriter {
  private readonly realDirs = new Set<string>(['']);
  private readonly dirTimes = new Map<string, Date>();
  private readonly dropped = new Map<string, number>();
  entries = 0;
  bytes = 0;

  constructor(
    readonly root: string,
    private readonly opts: TreeWriterOptions = {},
  ) {}

  /** Warnings worth a line to the user (skipped devices are reported as they happen). */
  summary(): string[] {
    return this.dropped.size === 0 ? [] : [`dropped extended attributes not kept by Corral: ${[...this.dropped].map(([n, c]) => `${n} (${c})`).join(', ')}`];
  }

  async write(entry: TarEntry, body: AsyncIterable<Buffer>, parts: string[] = entryComponents(entry.name)): Promise<void> {
    this.entries++;
    const rel = parts.join('/');
    if (parts.length === 0) {
      if (entry.type !== 'directory') throw new ArchiveError(`the layer root must be a directory, not a ${entry.type}`, entry.name);
      await this.dirMeta(this.root, rel, entry);
      return;
    }
    await this.parents(parts, entry.name, 'create');
    const abs = join(this.root, rel);
    try {
      switch (entry.type) {
        case 'directory':
          await this.directory(abs, rel, entry);
          return;
        case 'file':
          await this.replace(abs, rel);
          await this.file(abs, entry, body);
          return;
        case 'symlink':
          checkSymlinkTarget(entry.linkname, entry.name);
          await this.replace(abs, rel);
          await symlink(entry.linkname, abs);
          await lchown(abs, entry.uid, entry.gid);
          await lutimes(abs, entry.mtime, entry.mtime);
          return;
        case 'hardlink':
          await this.hardlink(abs, rel, entry);
          return;
        case 'fifo':
          await this.replace(abs, rel);
          fsNodes().mknod(abs, S_IFIFO | (entry.mode & 0o777), 0, 0);
          await lchown(abs, entry.uid, entry.gid);
          await chmod(abs, entry.mode);
          return;
        case 'char':
          if (this.opts.whiteouts && entry.devmajor === 0 && entry.devminor === 0) {
            await this.replace(abs, rel);
            makeWhiteout(abs);
            await lchown(abs, entry.uid, entry.gid);
            return;
          }
          this.skipDevice(entry);
          return;
        case 'block':
          this.skipDevice(entry);
          return;
      }
    } catch (err) {
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError(`write ${rel}: ${describe(err)}`, entry.name);
    }
  }

  /** Neutralised: containers get /dev from Corral, and every writable mount is nodev. */
  private skipDevice(entry: TarEntry): void {
    this.opts.warn?.(`skipped device node ${JSON.stringify(entry.name)} (${entry.type === 'char' ? 'c' : 'b'} ${entry.devmajor}:${entry.devminor})`);
  }

  /** Set directory mtimes last: writing children would change them. */
  async finish(): Promise<void> {
    for (const [rel, t] of this.dirTimes) {
      const abs = rel === '' ? this.root : join(this.root, rel);
      // lutimes: a directory replaced by a symlink since must not be followed.
      await lutimes(abs, t, t).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
      });
    }
  }

  /**
   * The parents of `parts` must be real directories. `create`: make missing ones; `require`:
   * false when one is missing; both throw on a symlink or a non-directory. `probe`: false for any
   * of these (a whiteout below a symlink has nothing to delete).
   */
  async parents(parts: string[], entry: string, how: 'create' | 'require' | 'probe'): Promise<boolean> {
    for (let i = 1; i < parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      if (this.realDirs.has(rel)) continue;
      const abs = join(this.root, rel);
      const st = await lstat(abs).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return undefined;
        throw err;
      });
      if (st === undefined) {
        if (how !== 'create') return false;
        const meta = (await this.opts.implicitDir?.(rel)) ?? { mode: 0o755, uid: 0, gid: 0 };
        await mkdir(abs, { mode: 0o700 });
        await lchown(abs, meta.uid, meta.gid);
        await chmod(abs, meta.mode);
      } else if (how === 'probe' && !st.isDirectory()) {
        return false;
      } else if (st.isSymbolicLink()) {
        throw new ArchiveError(`its parent "${rel}" is a symlink, and nothing is written through a symlink`, entry);
      } else if (!st.isDirectory()) {
        throw new ArchiveError(`its parent "${rel}" is not a directory`, entry);
      }
      this.realDirs.add(rel);
    }
    return true;
  }

  /** Remove whatever is at `rel` (a directory with its contents). */
  async remove(abs: string, rel: string): Promise<void> {
    const st = await lstat(abs).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    });
    if (!st) return;
    if (st.isDirectory()) {
      await rm(abs, { recursive: true, force: true });
      this.forget(rel);
    } else {
      await unlink(abs);
    }
  }

  /** Remove the children of directory `rel` (an opaque directory when flattening). */
  async clear(abs: string, rel: string): Promise<void> {
    for (const name of await readdir(abs)) await rm(join(abs, name), { recursive: true, force: true });
    for (const d of [...this.realDirs]) if (d.startsWith(`${rel}/`)) this.realDirs.delete(d);
  }

  /** Make a directory (or keep an existing one), without metadata from an entry. */
  async ensureDir(abs: string, rel: string): Promise<void> {
    const st = await lstat(abs).catch(() => undefined);
    if (st?.isDirectory()) return void this.realDirs.add(rel);
    if (st) await unlink(abs);
    const meta = (await this.opts.implicitDir?.(rel)) ?? { mode: 0o755, uid: 0, gid: 0 };
    await mkdir(abs, { mode: 0o700 });
    await lchown(abs, meta.uid, meta.gid);
    await chmod(abs, meta.mode);
    this.realDirs.add(rel);
  }

  private forget(rel: string): void {
    for (const d of [...this.realDirs]) if (d === rel || d.startsWith(`${rel}/`)) this.realDirs.delete(d);
    this.dirTimes.delete(rel);
  }

  private async replace(abs: string, rel: string): Promise<void> {
    if (this.opts.keepDirectories && (await lstat(abs).catch(() => undefined))?.isDirectory()) {
      throw new ArchiveError(`cannot overwrite the directory "${rel}" with a non-directory`, rel);
    }
    await this.remove(abs, rel);
  }

  private async directory(abs: string, rel: string, entry: TarEntry): Promise<void> {
    const st = await lstat(abs).catch(() => undefined);
    if (st && !st.isDirectory()) await unlink(abs);
    if (!st?.isDirectory()) await mkdir(abs, { mode: 0o700 });
    this.realDirs.add(rel);
    await this.dirMeta(abs, rel, entry);
  }

  private async dirMeta(abs: string, rel: string, entry: TarEntry): Promise<void> {
    await lchown(abs, entry.uid, entry.gid);
    await chmod(abs, entry.mode);
    this.setXattrs(abs, entry);
    this.dirTimes.set(rel, entry.mtime);
  }

  private async file(abs: string, entry: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const fh = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        this.bytes += chunk.length;
      }
      // chown clears setuid bits and file capabilities: owner first, then mode, then xattrs.
      await fh.chown(entry.uid, entry.gid);
      await fh.chmod(entry.mode);
      await fh.utimes(entry.mtime, entry.mtime);
    } finally {
      await fh.close();
    }
    this.setXattrs(abs, entry);
  }

  private async hardlink(abs: string, rel: string, entry: TarEntry): Promise<void> {
    const target = entryComponents(entry.linkname, 'hardlink target', entry.name);
    if (target.length === 0) throw new ArchiveError('hardlink target is the layer root', entry.name);
    const targetRel = target.join('/');
    if (targetRel === rel) return; // a link to itself: nothing to do (GNU tar agrees)
    const missing = (): ArchiveError => new ArchiveError(`hardlink target "${targetRel}" is not in the layer`, entry.name);
    if (!(await this.parents(target, entry.name, 'require'))) throw missing();
    const targetAbs = join(this.root, targetRel);
    const st = await lstat(targetAbs).catch(() => undefined);
    if (!st) throw missing();
    if (st.isDirectory()) throw new ArchiveError(`hardlink target "${targetRel}" is a directory`, entry.name);
    if (targetRel.startsWith(`${rel}/`)) throw new ArchiveError(`hardlink target "${targetRel}" is inside the entry it replaces`, entry.name);
    await this.replace(abs, rel);
    // link(2) does not follow a symlink in its last component: a link to a symlink is a symlink.
    await link(targetAbs, abs);
  }

  private setXattrs(abs: string, entry: TarEntry): void {
    for (const [name, value] of entry.xattrs) {
      if (!(this.opts.keepXattrs ?? KEPT_XATTRS).has(name)) {
        this.dropped.set(name, (this.dropped.get(name) ?? 0) + 1);
        continue;
      }
      fsNodes().lsetxattr(abs, name, value);
    }
  }
}

/** Overlay whiteout: a 0:0 character device (what overlayfs itself writes). */
export function makeWhiteout(abs: string): void {
  fsNodes().mknod(abs, S_IFCHR, 0, 0);
}
