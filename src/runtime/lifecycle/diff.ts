import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerChange } from '../../api/types.js';
import { fsError, isErrno } from '../../errors.js';
import { fsNodes } from '../../rootfs/archive/fsnodes.js';
import type { Runtime } from './context.js';

/**
 * Docker's `diff`: what the container changed in its root filesystem, read from its overlay upper
 * layer against the template (the lower layer). A whiteout (a 0:0 character device) is a delete;
 * an opaque directory (`trusted.overlay.opaque=y`) hides everything the template had in it, which
 * is deleted unless the upper layer has it again. Anything else is added when the template lacks
 * the path and changed when it has it. Sorted by path, as Docker's.
 */
export async function diffContainer(rt: Runtime, ref: string): Promise<ContainerChange[]> {
  const c = rt.resolve(ref);
  const upper = rt.store.layout(c.id).upper;
  const lower = (await rt.deps.templates.resolve(c.template)).rootfs;
  const changes: ContainerChange[] = [];
  await walk(upper, lower, '/', changes);
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function walk(upperDir: string, lowerDir: string | null, at: string, out: ContainerChange[]): Promise<void> {
  const entries = await list(upperDir);
  for (const e of entries) {
    const path = join(at, e.name);
    const up = join(upperDir, e.name);
    const st = await lstat(up);
    if (st.isCharacterDevice() && st.rdev === 0) {
      out.push({ path, kind: 'D' });
      continue;
    }
    const low = lowerDir === null ? null : join(lowerDir, e.name);
    const lowSt = low === null ? null : await lstat(low).catch((err: unknown) => (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') ? null : Promise.reject(err)));
    out.push({ path, kind: lowSt ? 'C' : 'A' });
    if (!st.isDirectory()) continue;
    const opaque = fsNodes().lgetxattr(up, 'trusted.overlay.opaque')?.toString() === 'y';
    const lowerIsDir = lowSt?.isDirectory() === true;
    if (opaque && lowerIsDir) {
      // The template's entries the container no longer sees (those it made again are walked below).
      const again = new Set(await readdir(up));
      for (const name of await readdir(low!)) if (!again.has(name)) out.push({ path: join(path, name), kind: 'D' });
    }
    await walk(up, lowerIsDir && !opaque ? low : null, path, out);
  }
}

async function list(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw fsError('read directory', dir, err);
  }
}
