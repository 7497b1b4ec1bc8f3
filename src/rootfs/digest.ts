import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsError } from '../errors.js';

/**
 * A layer's content digest and disk usage, from one walk of its tree.
 *
 * The digest is sha256 over one line per entry, in byte order of the relative paths:
 *   `<path> NUL <type> NUL <mode octal> NUL <uid> NUL <gid> NUL <size> NUL <content>`
 * where type is f/d/l/c/b/p/s, content is the sha256 of a regular file, a symlink's target, a
 * device's `major,minor`, and empty otherwise. Times and inode numbers are left out (two builds of
 * the same files digest the same); extended attributes are too (Node cannot read them), so an
 * opaque-directory marker does not change a digest. Hard links digest as copies.
 *
 * The size counts allocated blocks once per inode, directories included, as `du` does.
 */
export async function treeDigest(dir: string): Promise<{ digest: string; sizeBytes: number }> {
  const h = createHash('sha256');
  const seen = new Set<string>();
  let size = 0;
  const top = await lstat(dir).catch((err: unknown) => {
    throw fsError('stat', dir, err);
  });
  size += top.blocks * 512;
  seen.add(`${top.dev}:${top.ino}`);
  const walk = async (rel: string): Promise<void> => {
    const abs = rel ? join(dir, rel) : dir;
    const names = await readdir(abs).catch((err: unknown) => {
      throw fsError('list', abs, err);
    });
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, r);
      const st = await lstat(p).catch((err: unknown) => {
        throw fsError('stat', p, err);
      });
      const key = `${st.dev}:${st.ino}`;
      if (!seen.has(key)) {
        seen.add(key);
        size += st.blocks * 512;
      }
      let type = 'f';
      let content = '';
      if (st.isDirectory()) type = 'd';
      else if (st.isSymbolicLink()) {
        type = 'l';
        content = await readlink(p);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        type = st.isCharacterDevice() ? 'c' : 'b';
        content = `${Math.floor(st.rdev / 256) & 0xfff},${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`;
      } else if (st.isFIFO()) type = 'p';
      else if (st.isSocket()) type = 's';
      else content = await fileHash(p);
      h.update(`${r}\0${type}\0${(st.mode & 0o7777).toString(8)}\0${st.uid}\0${st.gid}\0${type === 'f' ? st.size : 0}\0${content}\n`);
      if (type === 'd') await walk(r);
    }
  };
  await walk('');
  return { digest: `sha256:${h.digest('hex')}`, sizeBytes: size };
}

/** A template's digest: sha256 over its layers' digests, top first, one per line. */
export function layersDigest(digests: readonly string[]): string {
  return `sha256:${createHash('sha256').update(digests.map((d) => `${d}\n`).join('')).digest('hex')}`;
}

function fileHash(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', (err) => reject(fsError('read', path, err)));
  });
}
