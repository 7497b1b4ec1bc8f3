import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fsError } from '../errors.js';

/**
 * A layer's content digest and disk usage, from one walk of its tree.
 *
 * The digest is sha256 over one line per entry, directory by directory (a directory's entries in
 * byte order of their names, then each subdirectory's the same way, depth first):
 *   `<path> NUL <type> NUL <mode octal> NUL <uid> NUL <gid> NUL <size> NUL <content>`
 * where type is f/d/l/c/b/p/s, content is the sha256 of a regular file, a symlink's target, a
 * device's `major,minor`, and empty otherwise. Times and inode numbers are left out (two builds of
 * the same files digest the same); extended attributes are too (Node cannot read them), so an
 * opaque-directory marker does not change a digest. Hard links digest as copies.
 *
 * The size counts allocated blocks once per inode, directories included, as `du` does.
 *
 * The walk uses synchronous calls in slices of ~20 ms, yielding to the event loop in between: a
 * Debian layer is ~10,000 files, and one asynchronous round trip per call costs a scheduler wake-up
 * each, minutes on a loaded host; slices keep corrald answering meanwhile.
 */
export async function treeDigest(dir: string): Promise<{ digest: string; sizeBytes: number }> {
  const h = createHash('sha256');
  const seen = new Set<string>();
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  let slice = Date.now();
  const st0 = stat(dir);
  size += st0.blocks * 512;
  seen.add(`${st0.dev}:${st0.ino}`);
  // Depth first, in byte order: a stack of directories still to list.
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const abs = rel ? join(dir, rel) : dir;
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      throw fsError('list', abs, err);
    }
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const subdirs: string[] = [];
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, r);
      const st = stat(p);
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
        content = readlinkSync(p);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        type = st.isCharacterDevice() ? 'c' : 'b';
        content = `${Math.floor(st.rdev / 256) & 0xfff},${(st.rdev & 0xff) | (Math.floor(st.rdev / 4096) & 0xfff00)}`;
      } else if (st.isFIFO()) type = 'p';
      else if (st.isSocket()) type = 's';
      else content = fileHash(p, buf);
      h.update(`${r}\0${type}\0${(st.mode & 0o7777).toString(8)}\0${st.uid}\0${st.gid}\0${type === 'f' ? st.size : 0}\0${content}\n`);
      if (type === 'd') subdirs.push(r);
      if (Date.now() - slice > 20) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = Date.now();
      }
    }
    // Popped in order: push the last first.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
  return { digest: `sha256:${h.digest('hex')}`, sizeBytes: size };
}

/** A template's digest: sha256 over its layers' digests, top first, one per line. */
export function layersDigest(digests: readonly string[]): string {
  return `sha256:${createHash('sha256').update(digests.map((d) => `${d}\n`).join('')).digest('hex')}`;
}

function stat(p: string) {
  try {
    return lstatSync(p);
  } catch (err) {
    throw fsError('stat', p, err);
  }
}

function fileHash(path: string, buf: Buffer): string {
  const h = createHash('sha256');
  let fd: number;
  try {
    // O_NOFOLLOW: the entry was a regular file when listed; never follow a link swapped in.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw fsError('open', path, err);
  }
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } catch (err) {
    throw fsError('read', path, err);
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}
