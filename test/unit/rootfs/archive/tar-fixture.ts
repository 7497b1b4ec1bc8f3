import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Hand-written tar members, for archives node-tar (or GNU tar) would never write: `..` names,
 * absolute links, bad checksums, data on directories, NUL bytes in PAX paths.
 */
export interface Member {
  name: string;
  /** '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, 'x' PAX, 'L' GNU long name, … */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  body?: Buffer | string;
  /** The size field, when it must lie about the body. */
  size?: number;
  devmajor?: number;
  devminor?: number;
  mtime?: number;
  badChecksum?: boolean;
}

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

export function header(m: Member): Buffer {
  const h = Buffer.alloc(512);
  const body = m.body === undefined ? Buffer.alloc(0) : Buffer.from(m.body);
  const put = (s: string, off: number, len: number): void => void h.write(s, off, Math.min(len, Buffer.byteLength(s)), 'utf8');
  const oct = (n: number, off: number, len: number): void => put(n.toString(8).padStart(len - 1, '0'), off, len - 1);
  put(m.name, 0, 100);
  oct(m.mode ?? (m.type === '5' ? 0o755 : 0o644), 100, 8);
  oct(m.uid ?? me.uid, 108, 8);
  oct(m.gid ?? me.gid, 116, 8);
  oct(m.size ?? body.length, 124, 12);
  oct(m.mtime ?? 1_700_000_000, 136, 12);
  h.write(m.type ?? '0', 156, 1, 'latin1');
  put(m.linkname ?? '', 157, 100);
  h.write('ustar\u000000', 257, 8, 'latin1');
  oct(m.devmajor ?? 0, 329, 8);
  oct(m.devminor ?? 0, 337, 8);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  if (m.badChecksum) h[148] = 0x37;
  return h;
}

export function member(m: Member): Buffer {
  const body = m.body === undefined ? Buffer.alloc(0) : Buffer.from(m.body);
  return Buffer.concat([header(m), body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** A PAX extended header for the next member; values may be binary. */
export function pax(records: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const rest = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from('\n')]);
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
    parts.push(Buffer.concat([Buffer.from(String(len)), rest]));
  }
  return member({ name: 'PaxHeader', type: 'x', body: Buffer.concat(parts) });
}

export function tar(...members: Buffer[]): Buffer {
  return Buffer.concat([...members, Buffer.alloc(1024)]);
}

export const file = (name: string, body = 'x', extra: Partial<Member> = {}): Buffer => member({ name, body, ...extra });
export const dir = (name: string, extra: Partial<Member> = {}): Buffer => member({ name, type: '5', ...extra });
export const symlink = (name: string, linkname: string): Buffer => member({ name, type: '2', linkname, mode: 0o777 });
export const hardlink = (name: string, linkname: string): Buffer => member({ name, type: '1', linkname });

export async function* chunks(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

/**
 * A scratch area: `base/sentinel/` (a file and a directory an escape would touch) and
 * `base/sandbox/`, where the destination `base/sandbox/dest` is made.
 */
export async function scratch(): Promise<{ base: string; sandbox: string; dest: string; snapshot(): Promise<string[]>; cleanup(): Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'corral-archive-'));
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(join(base, 'sentinel', 'dir'), { recursive: true });
  await writeFile(join(base, 'sentinel', 'file'), 'sentinel\n');
  await mkdir(join(base, 'sandbox'));
  return {
    base,
    sandbox: join(base, 'sandbox'),
    dest: join(base, 'sandbox', 'dest'),
    snapshot: () => tree(base),
    cleanup: () => rm(base, { recursive: true, force: true }),
  };
}

/** Every path below `root` with its type, mode, size, content hash or link target. */
export async function tree(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const here = join(root, rel);
  for (const name of (await readdir(here)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const p = join(root, r);
    const st = await lstat(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      out.push(`${r}/ d ${mode} ${st.uid}:${st.gid}`);
      out.push(...(await tree(root, r)));
    } else if (st.isSymbolicLink()) out.push(`${r} l -> ${await readlink(p)}`);
    else if (st.isFile()) out.push(`${r} f ${mode} ${st.uid}:${st.gid} ${(await readFile(p)).toString('base64').slice(0, 40)}`);
    else out.push(`${r} ${st.isFIFO() ? 'p' : st.isCharacterDevice() ? 'c' : 'b'} ${mode} rdev=${st.rdev}`);
  }
  return out;
}
