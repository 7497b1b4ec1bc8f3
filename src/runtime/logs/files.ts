import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError, isErrno } from '../../errors.js';

/**
 * Where a reader stopped: `offset` bytes into the file whose inode is `ino` (the live log when it
 * was read; it may have been rotated since). `ino` is undefined when there was no log yet.
 */
export interface LogCursor {
  ino: bigint | undefined;
  offset: number;
}

export const NL = 0x0a;
/** Bytes per read; files are never read whole (a log may be larger than a Buffer can hold). */
export const CHUNK = 1 << 20;
/** Tail reads start with a smaller chunk: `--tail 2` needs a few hundred bytes. */
export const TAIL_CHUNK = 64 << 10;

/** Longer than any record the monitor writes (a 16 KiB chunk and its header): not a record, dropped. */
export const MAX_LINE = 1 << 20;

/** Splits bytes into whole lines, decoded only up to a newline (never inside a UTF-8 sequence). */
export class LineSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private skipping = false; // inside an overlong line: dropped up to its newline

  /** The complete lines so far, as text. */
  push(buf: Buffer): string {
    let data: Buffer = this.carry.length > 0 ? Buffer.concat([this.carry, buf]) : buf;
    if (this.skipping) {
      const first = data.indexOf(NL);
      if (first < 0) return '';
      data = data.subarray(first + 1);
      this.skipping = false;
    }
    const nl = data.lastIndexOf(NL);
    this.carry = nl < 0 ? data : data.subarray(nl + 1);
    if (this.carry.length > MAX_LINE) this.reset(true);
    return nl < 0 ? '' : data.toString('utf8', 0, nl + 1);
  }

  /** The unterminated end, taken as a line. */
  end(): string {
    const text = this.carry.length > 0 ? this.carry.toString('utf8') + '\n' : '';
    this.reset(false);
    return text;
  }

  reset(skipping: boolean): void {
    this.carry = Buffer.alloc(0);
    this.skipping = skipping;
  }
}

/**
 * The log and its rotated files, oldest first: `path.N` … `path.1`, `path` (the monitor's
 * json-file-style rotation, docs/shim.md). Names only; any may vanish before it is opened.
 */
export async function logFileNames(path: string): Promise<string[]> {
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw fsError('read directory', dirname(path), err);
  }
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) && /^[1-9]\d*$/.test(n.slice(base.length + 1)) ? Number(n.slice(base.length + 1)) : 0))
    .filter((n) => n > 0)
    .sort((a, b) => b - a);
  return [...rotated.map((n) => `${path}.${n}`), ...(names.includes(base) ? [path] : [])];
}

export interface OpenLog {
  fh: FileHandle;
  ino: bigint;
  /** The size when opened: a reader stops there (follow picks up the rest). */
  size: number;
}

export async function openLog(name: string): Promise<OpenLog | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(name, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw fsError('open', name, err);
  }
  const st = await fh.stat({ bigint: true });
  return { fh, ino: st.ino, size: Number(st.size) };
}

/**
 * Opens every file of the log, oldest first. They are opened newest first and a file seen twice
 * (by inode) is skipped, so a rotation in between neither repeats nor skips a file.
 */
export async function openAll(path: string): Promise<OpenLog[]> {
  const files: OpenLog[] = [];
  try {
    for (const name of (await logFileNames(path)).reverse()) {
      const f = await openLog(name);
      if (!f) continue;
      if (files.some((g) => g.ino === f.ino)) await f.fh.close();
      else files.unshift(f);
    }
  } catch (err) {
    await Promise.all(files.map((f) => f.fh.close()));
    throw err;
  }
  return files;
}

export async function readAt(f: OpenLog, pos: number, len: number, path: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  try {
    const { bytesRead } = await f.fh.read(buf, 0, len, pos);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw fsError('read', path, err);
  }
}

/** The offset just past the file's last newline (0 if it has none): where complete lines end. */
export async function completeEnd(f: OpenLog, path: string): Promise<number> {
  for (let end = f.size; end > 0; ) {
    const start = Math.max(0, end - TAIL_CHUNK);
    const buf = await readAt(f, start, end - start, path);
    const nl = buf.lastIndexOf(NL);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/** The lines of `[0, end)` (which ends in a newline), last first, each with its newline. */
export async function* linesBackward(f: OpenLog, end: number, path: string): AsyncGenerator<Buffer> {
  let pos = end;
  let rest: Buffer = Buffer.alloc(0); // [pos, pos + rest.length): not yet yielded, ends in a newline
  let skipping = false; // inside an overlong line: dropped back to the newline before it
  for (let step = TAIL_CHUNK; pos > 0; step = Math.min(2 * step, CHUNK)) {
    const n = Math.min(step, pos);
    pos -= n;
    const chunk = await readAt(f, pos, n, path);
    let data: Buffer = Buffer.concat([chunk, rest]);
    if (skipping) {
      const nl = chunk.lastIndexOf(NL);
      if (nl < 0) continue;
      data = chunk.subarray(0, nl + 1);
      skipping = false;
    }
    let e = data.length;
    // A line is known whole once the newline before it is seen.
    for (let i = e >= 2 ? data.lastIndexOf(NL, e - 2) : -1; i >= 0; i = e >= 2 ? data.lastIndexOf(NL, e - 2) : -1) {
      yield data.subarray(i + 1, e);
      e = i + 1;
    }
    rest = data.subarray(0, e);
    if (rest.length > MAX_LINE) {
      rest = Buffer.alloc(0);
      skipping = true;
    }
  }
  if (rest.length > 0) yield rest;
}
