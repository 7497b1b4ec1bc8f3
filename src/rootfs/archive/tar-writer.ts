import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Header, Pax, type HeaderData } from 'tar';
import { describe } from '../../errors.js';
import { ArchiveError } from './errors.js';

export interface PackOptions {
  /** Owner ids as the archive shows them (a container's view of its host ids); as on disk when absent. */
  ids?: (uid: number, gid: number) => { uid: number; gid: number };
  /** Skipped members (sockets), one line each. */
  warn?: (message: string) => void;
}

const BLOCK = 512;
const CHUNK = 64 * 1024;

/**
 * `path` (never followed if it is a symlink) and everything below it as a tar stream, its members
 * named `name`, `name/child`, ... (`name` '' names the children alone). Nothing is followed: files
 * are opened O_NOFOLLOW, directories listed by the path lstat'ed as one, so a tree that changes
 * while it is read (it should not: `corral cp` freezes a running container) can make the read fail
 * but never leave it. A file that shrank is padded with zeros, one that grew is cut, so each member
 * matches its header. Hard links within the tree become link members.
 */
export async function* packTree(path: string, name: string, opts: PackOptions = {}): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  yield* member(path, name, opts, links);
  yield Buffer.alloc(BLOCK * 2);
}

async function* member(path: string, name: string, opts: PackOptions, links: Map<string, string>): AsyncGenerator<Buffer> {
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    throw new ArchiveError(`read ${describe(err)}`, name || '.');
  }
  const ids = opts.ids ? opts.ids(st.uid, st.gid) : { uid: st.uid, gid: st.gid };
  const base: HeaderData = { mode: st.mode & 0o7777, uid: ids.uid, gid: ids.gid, mtime: st.mtime, size: 0 };
  if (st.isDirectory()) {
    if (name !== '') yield* header({ ...base, path: `${name}/`, type: 'Directory' });
    for (const child of (await readdir(path)).sort()) yield* member(join(path, child), name === '' ? child : `${name}/${child}`, opts, links);
    return;
  }
  if (name === '') throw new ArchiveError('only a directory can be copied as its contents', '.');
  if (st.nlink > 1 && !st.isDirectory()) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) return yield* header({ ...base, path: name, type: 'Link', linkpath: first });
    links.set(key, name);
  }
  if (st.isSymbolicLink()) return yield* header({ ...base, path: name, type: 'SymbolicLink', linkpath: await readlink(path) });
  if (st.isFIFO()) return yield* header({ ...base, path: name, type: 'FIFO' });
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const type = st.isCharacterDevice() ? 'CharacterDevice' : 'BlockDevice';
    return yield* header({ ...base, path: name, type, devmaj: Math.floor(st.rdev / 256) & 0xfff, devmin: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) });
  }
  if (!st.isFile()) {
    opts.warn?.(`skipped ${name}: a socket cannot be archived`);
    return;
  }
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    yield* header({ ...base, path: name, type: 'File', size: st.size });
    let left = st.size;
    while (left > 0) {
      const buf = Buffer.alloc(Math.min(CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) {
        yield Buffer.alloc(left);
        break;
      }
      yield buf.subarray(0, bytesRead);
      left -= bytesRead;
    }
    const pad = (BLOCK - (st.size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
  } finally {
    await fh.close();
  }
}

/** One header block, after a PAX record when a field does not fit ustar (long names, big ids). */
async function* header(d: HeaderData): AsyncGenerator<Buffer> {
  const h = new Header(d);
  if (h.encode()) yield new Pax({ path: d.path, linkpath: d.linkpath, uid: d.uid, gid: d.gid, size: d.size, mtime: d.mtime } as HeaderData).encode();
  if (!h.block) throw new ArchiveError('encode a tar header', d.path ?? '');
  yield h.block;
}
