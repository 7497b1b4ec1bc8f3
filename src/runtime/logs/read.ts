import { CriParser, type LogRecord } from './cri.js';
import { CHUNK, LineSplitter, type OpenLog, openAll, readAt, completeEnd, linesBackward, type LogCursor } from './files.js';

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
