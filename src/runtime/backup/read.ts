import { createHash } from 'node:crypto';
import { BACKUP_HEADER_MEMBER, BACKUP_MANIFEST_MEMBER, type BackupHeader, type BackupManifest, type BackupMember, type BackupMemberType } from '../../api/types.js';
import { entryComponents } from '../../rootfs/archive/entry-path.js';
import { ArchiveError, archiveError } from '../../rootfs/archive/errors.js';
import { forEachEntry } from '../../rootfs/archive/extract.js';
import type { ExtractLimits } from '../../rootfs/archive/limits.js';
import type { TarEntry } from '../../rootfs/archive/tar-reader.js';
import { TreeWriter } from '../../rootfs/archive/tree-writer.js';
import { MAX_HEADER_BYTES, MAX_MANIFEST_BYTES, memberMismatch, parseHeader, parseManifest } from './format.js';
import { BACKUP_XATTRS, type IdShift } from './write.js';

/** Where the members go, decided once the header is read (and checked). */
export interface Destinations {
  /** The writable layer's staging directory (empty, made by the caller). */
  upper: string;
  /** Owners are relative in the archive: shifted into this range (null: host ids as they are). */
  ids: IdShift | null;
  /** Staging directories of the template's layers when the archive carries them and they are wanted. */
  templateLayers: string[] | null;
}

export interface ReadResult {
  header: BackupHeader;
  manifest: BackupManifest;
  entries: number;
  bytes: number;
  warnings: string[];
}

const KEEP = new Set<string>(BACKUP_XATTRS);

/**
 * Read a backup archive into staging directories, with the template-import rules for every
 * member (no `..`, no absolute names, nothing written through a symlink, budgets on size and
 * entries), and these of its own: the header comes first and the manifest last, nothing else
 * is at the top; device nodes other than overlay whiteouts are refused; owners must lie inside
 * the container's range. Every member is hashed as it is written and compared, at the end, with
 * the manifest's record of it: a flipped byte, a missing or an added member is refused. The
 * caller removes the staging directories when this throws.
 */
export async function readBackup(source: AsyncIterable<Buffer>, limits: Partial<ExtractLimits> | undefined, onHeader: (h: BackupHeader) => Promise<Destinations>): Promise<ReadResult> {
  let header: BackupHeader | undefined;
  let manifest: BackupManifest | undefined;
  let dest: Destinations | undefined;
  let upper: TreeWriter | undefined;
  const layers = new Map<number, TreeWriter>();
  const seen: BackupMember[] = [];
  const warnings: string[] = [];
  let entries = 0;

  await forEachEntry(source, limits, async (entry, body) => {
    entries++;
    if (manifest) throw new ArchiveError(`a member after ${BACKUP_MANIFEST_MEMBER}`, entry.name);
    const parts = entryComponents(entry.name);
    if (!header) {
      if (parts.join('/') !== BACKUP_HEADER_MEMBER || entry.type !== 'file') throw archiveError(`not a Corral backup: the first member is ${JSON.stringify(entry.name)}, not ${BACKUP_HEADER_MEMBER}`);
      const text = await readSmall(entry, body, MAX_HEADER_BYTES);
      seen.push(record(entry, BACKUP_HEADER_MEMBER, 'file', text));
      header = parseHeader(text);
      dest = await onHeader(header);
      upper = new TreeWriter(dest.upper, { whiteouts: true, keepXattrs: KEEP, warn: (m) => warnings.push(m) });
      return;
    }
    const top = parts[0];
    if (parts.length === 1 && top === BACKUP_MANIFEST_MEMBER && entry.type === 'file') {
      const text = await readSmall(entry, body, MAX_MANIFEST_BYTES);
      manifest = parseManifest(text);
      return;
    }
    const type = memberType(entry);
    if (top === 'upper') {
      // Whiteouts belong to host root, as overlayfs makes them (their owner means nothing to it).
      const e = dest!.ids && type !== 'whiteout' ? shifted(entry, dest!.ids) : type === 'whiteout' ? { ...entry, uid: 0, gid: 0 } : entry;
      const hashed = hashing(body);
      await upper!.write(linkWithin(e, 'upper'), hashed.body, parts.slice(1));
      seen.push(record(entry, parts.join('/'), type, undefined, hashed.digest()));
      return;
    }
    if (top === 'template' && parts.length >= 2 && /^(0|[1-9][0-9]{0,2})$/.test(parts[1]!) && header.template.included && Number(parts[1]) < header.template.layers) {
      const n = Number(parts[1]);
      const hashed = hashing(body);
      const dirs = dest!.templateLayers;
      if (dirs) {
        let w = layers.get(n);
        if (!w) layers.set(n, (w = new TreeWriter(dirs[n]!, { whiteouts: true, keepXattrs: KEEP, warn: (m) => warnings.push(m) })));
        await w.write(linkWithin(entry, `template/${n}`), hashed.body, parts.slice(2));
      } else {
        for await (const _ of hashed.body) {
          /* the local template is used: the layer is only checked */
        }
      }
      seen.push(record(entry, parts.join('/'), type, undefined, hashed.digest()));
      return;
    }
    throw new ArchiveError('not a member a Corral backup has', entry.name);
  });
  if (!header) throw archiveError('not a Corral backup: the archive is empty');
  if (!manifest) throw archiveError(`the archive is truncated: it ends before ${BACKUP_MANIFEST_MEMBER}`);
  if (manifest.backupId !== header.backupId) throw archiveError(`the manifest belongs to backup ${manifest.backupId}, the header to ${header.backupId}`);
  if (manifest.members.length !== seen.length) throw archiveError(`the manifest lists ${manifest.members.length} members, the archive holds ${seen.length}`);
  for (const [i, got] of seen.entries()) {
    const want = manifest.members[i]!;
    const why = memberMismatch({ ...want, name: entryComponents(want.name, 'manifest member').join('/') }, got);
    if (why) throw new ArchiveError(`does not match the manifest (checksum or metadata): ${why}`, want.name);
  }
  await upper!.finish();
  for (const w of layers.values()) await w.finish();
  return { header, manifest, entries, bytes: (upper?.bytes ?? 0) + [...layers.values()].reduce((n, w) => n + w.bytes, 0), warnings };
}

function memberType(e: TarEntry): BackupMemberType {
  if (e.type === 'char') {
    if (e.devmajor === 0 && e.devminor === 0) return 'whiteout';
    throw new ArchiveError(`device node c ${e.devmajor}:${e.devminor}: a backup carries none (only overlay whiteouts, c 0:0)`, e.name);
  }
  if (e.type === 'block') throw new ArchiveError(`device node b ${e.devmajor}:${e.devminor}: a backup carries none`, e.name);
  return e.type;
}

/** Relative owners into the container's range; an owner outside the range size is refused. */
function shifted(e: TarEntry, ids: IdShift): TarEntry {
  if (e.uid >= ids.size || e.gid >= ids.size) throw new ArchiveError(`owner ${e.uid}:${e.gid} is outside the container's ${ids.size} ids`, e.name);
  return { ...e, uid: e.uid + ids.uidBase, gid: e.gid + ids.gidBase };
}

/** A hardlink names a member of the same tree (`upper/…`); the writer resolves it below its root. */
function linkWithin(e: TarEntry, prefix: string): TarEntry {
  if (e.type !== 'hardlink') return e;
  const parts = entryComponents(e.linkname, 'hardlink target', e.name);
  const pre = prefix.split('/');
  if (parts.length <= pre.length || pre.some((p, i) => parts[i] !== p)) throw new ArchiveError(`hardlink target ${JSON.stringify(e.linkname)} is outside ${prefix}/`, e.name);
  return { ...e, linkname: parts.slice(pre.length).join('/') };
}

function hashing(body: AsyncIterable<Buffer>): { body: AsyncIterable<Buffer>; digest: () => string } {
  const h = createHash('sha256');
  return {
    body: (async function* () {
      for await (const c of body) {
        h.update(c);
        yield c;
      }
    })(),
    digest: () => h.digest('hex'),
  };
}

async function readSmall(e: TarEntry, body: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  if (e.size > max) throw new ArchiveError(`${e.size} bytes, more than the ${max} allowed`, e.name);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

function record(e: TarEntry, name: string, type: BackupMemberType, content?: Buffer, sha256?: string): BackupMember {
  const m: BackupMember = { name, type, size: type === 'file' ? e.size : 0, mode: e.mode, uid: e.uid, gid: e.gid };
  if (type === 'file') m.sha256 = content ? createHash('sha256').update(content).digest('hex') : sha256!;
  if (type === 'symlink' || type === 'hardlink') m.link = e.linkname;
  if (e.xattrs.size > 0) m.xattrs = Object.fromEntries([...e.xattrs].map(([k, v]) => [k, v.toString('base64')]));
  return m;
}
