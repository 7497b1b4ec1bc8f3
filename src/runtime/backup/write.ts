import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_FORMAT, BACKUP_HEADER_MEMBER, BACKUP_MANIFEST_MEMBER, BACKUP_VERSION, type BackupHeader, type BackupManifest, type BackupMember } from '../../api/types.js';
import { fsError } from '../../errors.js';
import { fsNodes } from '../../rootfs/archive/fsnodes.js';
import { END_OF_ARCHIVE, memberHeader, pad, type TarMember } from './tar-write.js';

/** Extended attributes a backup carries: file capabilities and overlayfs' opaque-directory mark. */
export const BACKUP_XATTRS = ['security.capability', 'trusted.overlay.opaque'] as const;

export interface IdShift {
  uidBase: number;
  gidBase: number;
  size: number;
}

export interface BackupSource {
  header: BackupHeader;
  /** The container's writable layer. */
  upper: string;
  /** Its user namespace range: owners are stored relative to it; null: host ids as they are. */
  ids: IdShift | null;
  /** Template layers to carry (top first); empty without --include-template. */
  templateLayers: readonly string[];
  /** An incremental: only files whose fingerprint differs from this state travel. */
  since?: { state: Record<string, string> };
}

const CHUNK = 1 << 20;

/**
 * The archive as an uncompressed tar stream: header, upper/, template/<n>/, manifest. One walk,
 * files read once (twice for an incremental's changed files: hashed to compare, then sent); every
 * member's record is kept for the manifest that closes the archive.
 */
export async function* backupTar(src: BackupSource): AsyncGenerator<Buffer> {
  const members: BackupMember[] = [];
  const warnings: string[] = [];
  const state: Record<string, string> = {};
  const now = new Date();

  const headerBody = Buffer.from(JSON.stringify(src.header, null, 1));
  yield* json(BACKUP_HEADER_MEMBER, headerBody, now, members);

  const shift = (st: Stats, path: string): { uid: number; gid: number } => {
    if (!src.ids) return { uid: st.uid, gid: st.gid };
    const rel = (id: number, base: number, what: string): number => {
      if (id >= base && id < base + src.ids!.size) return id - base;
      // The kernel shows such an owner as nobody (65534) inside the container: keep that view.
      warnings.push(`${path}: ${what} ${id} is outside the container's range; stored as 65534`);
      return 65534;
    };
    return { uid: rel(st.uid, src.ids.uidBase, 'owner'), gid: rel(st.gid, src.ids.gidBase, 'group') };
  };
  yield* tree(src.upper, 'upper', { members, warnings, state, shift, ...(src.since ? { since: src.since.state } : {}) });
  for (const [i, layer] of src.templateLayers.entries()) {
    yield* tree(layer, `template/${i}`, { members, warnings, state: {}, shift: (st) => ({ uid: st.uid, gid: st.gid }) });
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    backupId: src.header.backupId,
    members,
    deletions: src.since ? Object.keys(src.since.state).filter((p) => !(p in state)).sort() : [],
    state,
    warnings,
  };
  yield* json(BACKUP_MANIFEST_MEMBER, Buffer.from(JSON.stringify(manifest)), now, null);
  yield END_OF_ARCHIVE;
}

function* json(name: string, body: Buffer, mtime: Date, members: BackupMember[] | null): Generator<Buffer> {
  const m: TarMember = { name, type: 'file', size: body.length, mode: 0o600, uid: 0, gid: 0, mtime };
  members?.push({ name, type: 'file', size: body.length, mode: 0o600, uid: 0, gid: 0, sha256: createHash('sha256').update(body).digest('hex') });
  yield memberHeader(m);
  yield body;
  yield Buffer.alloc(pad(body.length));
}

interface WalkState {
  members: BackupMember[];
  warnings: string[];
  /** Path below the root → fingerprint of what is there now. */
  state: Record<string, string>;
  shift: (st: Stats, path: string) => { uid: number; gid: number };
  since?: Record<string, string>;
}

/** One directory tree as members under `prefix`, depth first, names in byte order. */
async function* tree(root: string, prefix: string, w: WalkState): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const abs = rel === '' ? root : join(root, rel);
    const st = await lstat(abs).catch((err: unknown) => {
      throw fsError('stat', abs, err);
    });
    const name = rel === '' ? prefix : `${prefix}/${rel}`;
    // overlayfs makes whiteouts with its mounter's ids (host root): they are kept as host root.
    const whiteout = st.isCharacterDevice() && st.rdev === 0;
    const { uid, gid } = whiteout ? { uid: 0, gid: 0 } : w.shift(st, abs);
    const mode = st.mode & 0o7777;
    const base = { name, mode, uid, gid, mtime: st.mtime };
    const xattrs = readXattrs(abs, st);
    const x = xattrs.size > 0 ? Object.fromEntries([...xattrs].map(([k, v]) => [k, v.toString('base64')])) : undefined;
    const fp = (kind: string, content: string): string => `${kind}:${mode.toString(8)}:${uid}:${gid}:${content}${x ? `:${JSON.stringify(x)}` : ''}`;
    if (st.isDirectory()) {
      w.state[rel] = fp('d', '');
      w.members.push({ name, type: 'directory', size: 0, mode, uid, gid, ...(x ? { xattrs: x } : {}) });
      yield memberHeader({ ...base, type: 'directory', size: 0, xattrs });
      const names = (await readdir(abs)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (let i = names.length - 1; i >= 0; i--) stack.push(rel === '' ? names[i]! : `${rel}/${names[i]!}`);
    } else if (st.isSymbolicLink()) {
      const link = await readlink(abs);
      w.state[rel] = fp('l', link);
      w.members.push({ name, type: 'symlink', size: 0, mode, uid, gid, link });
      yield memberHeader({ ...base, type: 'symlink', size: 0, link });
    } else if (st.isCharacterDevice() && st.rdev === 0) {
      w.state[rel] = fp('w', '');
      w.members.push({ name, type: 'whiteout', size: 0, mode, uid, gid });
      yield memberHeader({ ...base, type: 'char', size: 0 });
    } else if (st.isFIFO()) {
      w.state[rel] = fp('p', '');
      w.members.push({ name, type: 'fifo', size: 0, mode, uid, gid });
      yield memberHeader({ ...base, type: 'fifo', size: 0 });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first !== undefined) {
        w.state[rel] = fp('h', first);
        w.members.push({ name, type: 'hardlink', size: 0, mode, uid, gid, link: first });
        yield memberHeader({ ...base, type: 'hardlink', size: 0, link: first });
        continue;
      }
      if (st.nlink > 1) links.set(key, name);
      // An incremental skips a file whose content and metadata are what the base has (hardlinked
      // files always travel: their partners may have changed).
      if (w.since && st.nlink === 1) {
        const known = w.since[rel];
        if (known !== undefined && known.startsWith('f:')) {
          const now = fp('f', `${st.size}:${st.mtimeMs}:${await fileSha256(abs)}`);
          if (now === known) {
            w.state[rel] = now;
            continue;
          }
        }
      }
      const h = createHash('sha256');
      yield memberHeader({ ...base, type: 'file', size: st.size, xattrs });
      yield* fileBody(abs, st.size, h, w.warnings);
      yield Buffer.alloc(pad(st.size));
      const sha256 = h.digest('hex');
      w.state[rel] = fp('f', `${st.size}:${st.mtimeMs}:${sha256}`);
      w.members.push({ name, type: 'file', size: st.size, mode, uid, gid, sha256, ...(x ? { xattrs: x } : {}) });
    } else {
      w.warnings.push(`${abs}: skipped a ${st.isSocket() ? 'socket' : 'device node'} (not kept by backups)`);
    }
  }
}

/** Exactly `size` bytes of the file (a file that shrank while read is padded with zeros, one that grew is cut). */
async function* fileBody(path: string, size: number, h: ReturnType<typeof createHash>, warnings: string[]): AsyncGenerator<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: unknown) => {
    throw fsError('open', path, err);
  });
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) {
        warnings.push(`${path}: shrank while it was read; padded with zeros`);
        const zeros = Buffer.alloc(left);
        h.update(zeros);
        yield zeros;
        return;
      }
      const piece = buf.subarray(0, bytesRead);
      h.update(piece);
      left -= bytesRead;
      yield piece;
    }
  } catch (err) {
    throw fsError('read', path, err);
  } finally {
    await fh.close();
  }
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const _ of fileBody(path, (await lstat(path)).size, h, [])) {
    /* hashed */
  }
  return h.digest('hex');
}

function readXattrs(abs: string, st: Stats): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!st.isFile() && !st.isDirectory()) return out;
  for (const name of BACKUP_XATTRS) {
    if (name === 'trusted.overlay.opaque' && !st.isDirectory()) continue;
    if (name === 'security.capability' && !st.isFile()) continue;
    const v = fsNodes().lgetxattr(abs, name);
    if (v !== null) out.set(name, v);
  }
  return out;
}
