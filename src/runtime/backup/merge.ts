import { chmod, lchown, lstat, readdir, rename, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { fsError, isErrno } from '../../errors.js';
import { entryComponents } from '../../rootfs/archive/entry-path.js';
import { fsNodes } from '../../rootfs/archive/fsnodes.js';

const OPAQUE = 'trusted.overlay.opaque';

/**
 * Apply a verified incremental, staged in `staged` (same filesystem), onto the layer `target`:
 * first the deletions, then every staged entry renamed over its path, directories merged (their
 * owner, mode, opaque mark and time taken from the staged one). Nothing is followed: a path whose
 * parent in `target` is not a real directory is left alone (a deletion) or replaced (an entry).
 */
export async function mergeInto(staged: string, target: string, deletions: readonly string[]): Promise<void> {
  for (const d of deletions) {
    const parts = entryComponents(d, 'deletion');
    if (parts.length === 0 || !(await realParents(target, parts))) continue;
    await rm(join(target, ...parts), { recursive: true, force: true });
  }
  await mergeDir(staged, target);
}

async function realParents(root: string, parts: string[]): Promise<boolean> {
  for (let i = 1; i < parts.length; i++) {
    const st = await lstat(join(root, ...parts.slice(0, i))).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return true;
}

/** `from` is a directory; `to` is a real directory (the layer root, or made so by the caller). */
async function mergeDir(from: string, to: string): Promise<void> {
  for (const name of await readdir(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = await lstat(src);
    const there = await lstat(dst).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw fsError('stat', dst, err);
    });
    if (st.isDirectory() && there?.isDirectory()) {
      await mergeDir(src, dst);
      continue;
    }
    if (there) await rm(dst, { recursive: true, force: true });
    await rename(src, dst).catch((err: unknown) => {
      throw fsError('rename', `${src} to ${dst}`, err);
    });
  }
  await copyDirMeta(from, to);
}

async function copyDirMeta(from: string, to: string): Promise<void> {
  const st = await lstat(from);
  await lchown(to, st.uid, st.gid);
  await chmod(to, st.mode & 0o7777);
  const nodes = fsNodes();
  const opaque = nodes.lgetxattr(from, OPAQUE);
  if (opaque !== null) nodes.lsetxattr(to, OPAQUE, opaque);
  await utimes(to, st.atime, st.mtime);
}

