import { Header } from 'tar';
import { ByteReader } from './byte-reader.js';
import { ArchiveError, archiveError } from './errors.js';
import { MAX_META_BYTES, type ExtractLimits } from './limits.js';
import { parsePax, type PaxRecords } from './pax.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** One member, with PAX and GNU long names already applied. */
export interface TarEntry {
  /** The name as the archive spells it (for messages); checked by the writer. */
  name: string;
  type: EntryType;
  /** Permission bits incl. setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  /** Symlink value or hardlink target; '' otherwise. */
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  'D': 'directory',
  '6': 'fifo',
};

const pad = (n: number): number => (512 - (n % 512)) % 512;

/**
 * Tar framing over a (decompressed) chunk stream, with node-tar's Header decoding each 512-byte
 * block (checksum, base-256 numbers, ustar prefix). Strict where readers disagree, because a
 * member two tar readers see differently is how files get smuggled: bad checksums, unknown types,
 * data on a directory or link, and PAX/long-name records over 1 MiB are refused, not skipped.
 * The consumer must finish (or abandon) each entry's body before asking for the next.
 */
export async function* readTar(source: AsyncIterable<Buffer>, limits: ExtractLimits): AsyncGenerator<{ entry: TarEntry; body: AsyncIterable<Buffer> }> {
  let last = 'the start of the archive';
  const r = new ByteReader(source, limits.maxBytes, () => last);
  let members = 0;
  let pax: PaxRecords | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const at = r.offset;
      const block = await r.exact(512);
      if (block === null) {
        if (pax || longName !== undefined || longLink !== undefined) throw archiveError(`archive is truncated (after ${last})`);
        return; // no end-of-archive blocks: accepted, as GNU tar does
      }
      if (isZero(block)) return; // end of archive; what follows (padding) is not read
      if (++members > limits.maxEntries) throw archiveError(`archive has more than ${limits.maxEntries} entries (the budget; at ${last})`, { maxEntries: limits.maxEntries });
      const h = new Header(block);
      if (!h.cksumValid) throw archiveError(`not a tar archive, or corrupt: bad header checksum at byte ${at} (after ${last})`);
      const key = block.toString('latin1', 156, 157).replace(/\0/g, '');
      const size = h.size ?? 0;
      if (key === 'x' || key === 'g' || key === 'L' || key === 'K') {
        if (size > MAX_META_BYTES) throw archiveError(`${key === 'x' || key === 'g' ? 'PAX header' : 'GNU long name'} of ${size} bytes after ${last} (limit ${MAX_META_BYTES})`);
        const body = (await r.exact(size + pad(size))) ?? Buffer.alloc(0);
        const data = body.subarray(0, size);
        if (key === 'x') pax = mergePax(pax, parsePax(data, `the entry after ${last}`));
        else if (key === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
        else if (key === 'K') longLink = data.toString('utf8').replace(/\0+$/, '');
        // 'g': global records (git archive's commit comment) are ignored
        continue;
      }
      const name = pax?.path ?? longName ?? h.path ?? '';
      last = JSON.stringify(name);
      const type = TYPES[key];
      if (type === undefined) throw new ArchiveError(`unsupported tar entry type ${JSON.stringify(key)}${key === 'S' ? ' (GNU sparse file)' : ''}`, name);
      const entrySize = pax?.size ?? (key === '5' ? rawSize(block) : size);
      if (entrySize > 0 && type !== 'file' && key !== 'D') throw new ArchiveError(`a ${type} entry carries ${entrySize} bytes of data`, name);
      const entry: TarEntry = {
        name,
        type,
        mode: (h.mode ?? 0) & 0o7777,
        uid: pax?.uid ?? h.uid ?? 0,
        gid: pax?.gid ?? h.gid ?? 0,
        size: type === 'file' ? entrySize : 0,
        mtime: pax?.mtime ?? h.mtime ?? new Date(0),
        linkname: pax?.linkpath ?? longLink ?? h.linkpath ?? '',
        devmajor: h.devmaj ?? 0,
        devminor: h.devmin ?? 0,
        xattrs: pax?.xattrs ?? new Map(),
      };
      pax = undefined;
      longName = longLink = undefined;
      let left = entrySize;
      const body = (async function* (): AsyncGenerator<Buffer> {
        for await (const c of r.stream(left)) {
          left -= c.length;
          yield c;
        }
      })();
      yield { entry, body };
      await r.skip(left + pad(entrySize));
    }
  } finally {
    await r.close();
  }
}

function mergePax(a: PaxRecords | undefined, b: PaxRecords): PaxRecords {
  if (!a) return b;
  return { ...a, ...b, xattrs: new Map([...a.xattrs, ...b.xattrs]) };
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** node-tar forces a directory's size to 0; the raw field decides the framing, so read it. */
function rawSize(block: Buffer): number {
  const f = block.subarray(124, 136);
  if (f[0]! & 0x80) return Number.MAX_SAFE_INTEGER; // base-256: certainly not 0
  const t = f.toString('latin1').replace(/[\0 ]/g, '');
  return t === '' ? 0 : parseInt(t, 8) || 0;
}
