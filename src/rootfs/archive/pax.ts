import { archiveError, ArchiveError } from './errors.js';

/** The PAX records Corral honours; values stay bytes until a key says how to read them. */
export interface PaxRecords {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  /** SCHILY.xattr.NAME → raw value (binary: security.capability is a struct). */
  xattrs: Map<string, Buffer>;
}

/**
 * Parse `LEN key=value\n` records on bytes, not on a decoded string (node-tar decodes PAX text as
 * UTF-8, which corrupts binary xattr values, and drops xattrs altogether).
 */
export function parsePax(buf: Buffer, entryHint: string): PaxRecords {
  const out: PaxRecords = { xattrs: new Map() };
  const bad = (why: string): ArchiveError => archiveError(`malformed PAX header before ${entryHint}: ${why}`);
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break; // NUL padding after the last record
    const space = buf.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw bad('no record length');
    const lenText = buf.toString('latin1', pos, space);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw bad(`record length ${JSON.stringify(lenText)}`);
    const len = Number(lenText);
    const end = pos + len;
    if (end > buf.length || buf[end - 1] !== 0x0a) throw bad('record runs past the header');
    const record = buf.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw bad('record without key=value');
    const key = record.toString('utf8', 0, eq);
    const value = record.subarray(eq + 1);
    apply(out, key, value, bad);
    pos = end;
  }
  return out;
}

function apply(out: PaxRecords, key: string, value: Buffer, bad: (why: string) => ArchiveError): void {
  const text = (): string => value.toString('utf8');
  const int = (max: number): number => {
    const t = text();
    if (!/^[0-9]{1,16}$/.test(t) || Number(t) > max) throw bad(`${key}=${JSON.stringify(t)}`);
    return Number(t);
  };
  if (key.startsWith('SCHILY.xattr.')) {
    out.xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
    return;
  }
  if (key.startsWith('GNU.sparse.')) throw bad('sparse files are not supported');
  if (value.length === 0) return; // "key=" deletes a record: nothing to delete in ours
  switch (key) {
    case 'path':
      out.path = text();
      break;
    case 'linkpath':
      out.linkpath = text();
      break;
    case 'size':
      out.size = int(Number.MAX_SAFE_INTEGER);
      break;
    case 'uid':
      out.uid = int(0xfffffffe);
      break;
    case 'gid':
      out.gid = int(0xfffffffe);
      break;
    case 'mtime': {
      const t = Number(text());
      if (!Number.isFinite(t)) throw bad(`mtime=${JSON.stringify(text())}`);
      out.mtime = new Date(t * 1000);
      break;
    }
    default:
      break; // atime, ctime, uname, gname, comment, charset, LIBARCHIVE.*: not needed
  }
}
