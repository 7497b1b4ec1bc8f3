import { Header } from 'tar';

/** What one tar member needs; `xattrs` go to PAX SCHILY.xattr records as raw bytes. */
export interface TarMember {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'fifo';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  link?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

const TYPE: Record<TarMember['type'], string> = { file: 'File', directory: 'Directory', symlink: 'SymbolicLink', hardlink: 'Link', char: 'CharacterDevice', fifo: 'FIFO' };

/**
 * The header block(s) of a member: a PAX header first when the name or link does not fit ustar as
 * plain ASCII, or when it carries extended attributes (encoded on bytes: node-tar's Pax writes
 * values as UTF-8 text, which would corrupt a binary security.capability).
 */
export function memberHeader(m: TarMember): Buffer {
  const pax: [string, Buffer][] = [];
  const long = (s: string): boolean => Buffer.byteLength(s) > 99 || /[^\x20-\x7e]/.test(s);
  if (long(m.name)) pax.push(['path', Buffer.from(m.name)]);
  if (m.link !== undefined && long(m.link)) pax.push(['linkpath', Buffer.from(m.link)]);
  for (const [k, v] of m.xattrs ?? []) pax.push([`SCHILY.xattr.${k}`, v]);
  const block = Buffer.alloc(512);
  new Header({
    path: long(m.name) ? asciiStub(m.name) : m.name,
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
    size: m.type === 'file' ? m.size : 0,
    mtime: m.mtime,
    type: TYPE[m.type] as never,
    linkpath: m.link === undefined ? '' : long(m.link) ? asciiStub(m.link) : m.link,
    uname: '',
    gname: '',
    devmaj: m.devmajor ?? 0,
    devmin: m.devminor ?? 0,
  }).encode(block, 0);
  if (pax.length === 0) return block;
  const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const ph = Buffer.alloc(512);
  new Header({ path: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: m.mtime, type: 'ExtendedHeader' as never, uname: '', gname: '' }).encode(ph, 0);
  return Buffer.concat([ph, body, Buffer.alloc(pad(body.length)), block]);
}

/** `LEN key=value\n` where LEN counts itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(key) + value.length + 3; // ' ' '=' '\n'
  let len = rest;
  while (rest + String(len).length !== len) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function asciiStub(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(-99);
}

export const pad = (n: number): number => (512 - (n % 512)) % 512;

/** The end of an archive: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);
