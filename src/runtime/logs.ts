import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError, isErrno } from '../errors.js';

/** One CRI log record (kubelet/podman k8s-file format), partial lines already joined. */
export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text, ending in "\n" unless the output ended without one. */
  log: string;
}

const LINE = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s;

/** Parses CRI lines, joining `P` (partial) records with the `F` record that ends them. */
export class CriParser {
  private pending = '';
  private partial: { time: string; stream: 'stdout' | 'stderr'; text: string } | undefined;

  /** Feed raw file bytes (as text); returns the completed records. */
  push(chunk: string): LogRecord[] {
    const text = this.pending + chunk;
    const out: LogRecord[] = [];
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      const line = text.slice(start, nl);
      start = nl + 1;
      const m = LINE.exec(line);
      if (!m) continue;
      const [, time, stream, tag, body] = m as unknown as [string, string, 'stdout' | 'stderr', 'F' | 'P', string];
      if (this.partial && this.partial.stream !== stream) out.push(this.flushPartial()!);
      if (tag === 'P') {
        this.partial = this.partial ? { ...this.partial, text: this.partial.text + body } : { time, stream, text: body };
        continue;
      }
      const head = this.partial?.stream === stream ? this.partial : undefined;
      this.partial = undefined;
      out.push({ time: head?.time ?? time, stream, log: (head?.text ?? '') + body + '\n' });
    }
    this.pending = text.slice(start);
    return out;
  }

  /** A partial record with no end yet (output that did not end in a newline). */
  flushPartial(): LogRecord | undefined {
    const p = this.partial;
    this.partial = undefined;
    return p ? { time: p.time, stream: p.stream, log: p.text } : undefined;
  }
}

/**
 * Where a reader stopped: `offset` bytes into the file whose inode is `ino` (the live log when it
 * was read; it may have been rotated since). `ino` is undefined when there was no log yet.
 */
export interface LogCursor {
  ino: bigint | undefined;
  offset: number;
}

const NL = 0x0a;
/** Bytes per read; files are never read whole (a log may be larger than a Buffer can hold). */
const CHUNK = 1 << 20;
/** Tail reads start with a smaller chunk: `--tail 2` needs a few hundred bytes. */
const TAIL_CHUNK = 64 << 10;

/** Longer than any record the monitor writes (a 16 KiB chunk and its header): not a record, dropped. */
const MAX_LINE = 1 << 20;

/** Splits bytes into whole lines, decoded only up to a newline (never inside a UTF-8 sequence). */
class LineSplitter {
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

interface OpenLog {
  fh: FileHandle;
  ino: bigint;
  /** The size when opened: a reader stops there (follow picks up the rest). */
  size: number;
}

async function openLog(name: string): Promise<OpenLog | undefined> {
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
async function openAll(path: string): Promise<OpenLog[]> {
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

async function readAt(f: OpenLog, pos: number, len: number, path: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  try {
    const { bytesRead } = await f.fh.read(buf, 0, len, pos);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw fsError('read', path, err);
  }
}

/** The offset just past the file's last newline (0 if it has none): where complete lines end. */
async function completeEnd(f: OpenLog, path: string): Promise<number> {
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
async function* linesBackward(f: OpenLog, end: number, path: string): AsyncGenerator<Buffer> {
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

const FULL_LINE = /^\S+ (?:stdout|stderr) F /;

/**
 * The lines that make up the last `tail` records, oldest first. Just after an `F` line the parser
 * holds nothing, so lines are collected backwards until `tail` F lines are in hand and one more F
 * line marks where parsing may start.
 */
async function tailLines(files: OpenLog[], newestEnd: number, tail: number, path: string): Promise<string[]> {
  const lines: string[] = [];
  let full = 0;
  for (let k = files.length - 1; k >= 0; k--) {
    const f = files[k]!;
    let end = newestEnd;
    if (k < files.length - 1) {
      // A rotated file ends on a record; an unterminated end (a monitor killed mid-write) is a line.
      end = await completeEnd(f, path);
      if (end < f.size) {
        const text = (await readAt(f, end, f.size - end, path)).toString('utf8') + '\n';
        if (FULL_LINE.test(text) && full++ === tail) return lines.reverse();
        lines.push(text);
      }
    }
    for await (const line of linesBackward(f, end, path)) {
      const text = line.toString('utf8');
      if (FULL_LINE.test(text) && full++ === tail) return lines.reverse();
      lines.push(text);
    }
  }
  return lines.reverse();
}

/**
 * Reads the log and its rotated files (oldest first) in chunks, whatever their size, passing every
 * record to `emit` (awaited: the caller's back-pressure), or only the last `tail` records, found by
 * reading backwards from the end. Returns where a follower continues.
 */
export async function readLog(path: string, tail: number | undefined, emit: (r: LogRecord) => unknown, signal?: AbortSignal): Promise<LogCursor> {
  const files = await openAll(path);
  try {
    const newest = files[files.length - 1];
    if (!newest) return { ino: undefined, offset: 0 };
    // Only complete lines are read; a record being written is picked up by follow.
    const cursor = { ino: newest.ino, offset: await completeEnd(newest, path) };
    const parser = new CriParser();
    if (tail !== undefined && tail >= 0) {
      if (tail === 0) return cursor;
      const records = parser.push((await tailLines(files, cursor.offset, tail, path)).join(''));
      const last = parser.flushPartial();
      if (last) records.push(last);
      for (const r of records.slice(Math.max(0, records.length - tail))) await emit(r);
      return cursor;
    }
    for (const f of files) {
      const end = f === newest ? cursor.offset : f.size;
      const lines = new LineSplitter();
      for (let pos = 0; pos < end && !signal?.aborted; ) {
        const buf = await readAt(f, pos, Math.min(CHUNK, end - pos), path);
        if (buf.length === 0) break; // truncated meanwhile
        pos += buf.length;
        for (const r of parser.push(lines.push(buf))) await emit(r);
      }
      for (const r of parser.push(lines.end())) await emit(r);
    }
    const last = parser.flushPartial();
    if (last) await emit(last);
    return cursor;
  } finally {
    await Promise.all(files.map((f) => f.fh.close()));
  }
}

/** The files of the log now, oldest first, with their inodes (by name: no file is held open). */
async function chain(path: string): Promise<{ name: string; ino: bigint }[]> {
  const out: { name: string; ino: bigint }[] = [];
  for (const name of await logFileNames(path)) {
    try {
      out.push({ name, ino: (await stat(name, { bigint: true })).ino });
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw fsError('stat', name, err);
    }
  }
  return out;
}

/**
 * Follow the log from `from`, yielding records until `done()` says the writer has finished and
 * everything written has been read. A rotation (the live file renamed `.1`, seen as a new inode
 * under the name) moves on to the next newer file once the old one is read to its end; a
 * truncation (the size shrank below what was read) starts the file over.
 */
export async function* followLog(path: string, from: LogCursor, done: () => Promise<boolean>, signal?: AbortSignal): AsyncGenerator<LogRecord> {
  const parser = new CriParser();
  let cur: { f: OpenLog; pos: number } | undefined;
  const lines = new LineSplitter();
  /** Opens the file after `ino` in the chain (`same`: the one `ino` names, at the cursor), or the oldest if `ino` is gone. */
  const openNext = async (ino: bigint | undefined, same: boolean): Promise<boolean> => {
    const files = await chain(path);
    const at = ino === undefined ? -1 : files.findIndex((f) => f.ino === ino);
    const pick = same && at >= 0 ? files[at] : files[at + 1];
    if (!pick) return false;
    const f = await openLog(pick.name);
    if (!f) return false;
    if (f.ino !== pick.ino) {
      // Renamed between the listing and the open: look again at the next poll.
      await f.fh.close();
      return false;
    }
    if (cur) await cur.f.fh.close();
    cur = { f, pos: same && at >= 0 ? from.offset : 0 };
    lines.reset(false);
    return true;
  };
  /** Reads what `cur` has past `pos`; false at its end. */
  const readMore = async function* (): AsyncGenerator<LogRecord, boolean> {
    if (!cur) return false;
    const size = Number((await cur.f.fh.stat({ bigint: true })).size);
    if (size < cur.pos) {
      // Truncated (a cap of one file): what was written since is at its start.
      cur.pos = 0;
      lines.reset(false);
    }
    if (size <= cur.pos) return false;
    const buf = await readAt(cur.f, cur.pos, Math.min(CHUNK, size - cur.pos), path);
    if (buf.length === 0) return false;
    cur.pos += buf.length;
    yield* parser.push(lines.push(buf));
    return true;
  };
  try {
    for (;;) {
      if (signal?.aborted) return;
      const finished = await done();
      if (yield* readMore()) continue;
      // At the end of the file: has it been rotated?
      let moved = false;
      // First the file the cursor names (or, if it is gone, the oldest there is).
      if (!cur) moved = await openNext(from.ino, true);
      else {
        const st = await stat(path, { bigint: true }).catch(() => undefined);
        if (st && st.ino !== cur.f.ino) {
          // Written before the rename: read the old file to its end first.
          while (yield* readMore());
          moved = await openNext(cur.f.ino, false);
        }
      }
      if (moved) continue;
      if (finished) {
        const last = parser.flushPartial();
        if (last) yield last;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    if (cur) await cur.f.fh.close();
  }
}
