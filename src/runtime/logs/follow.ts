import { stat } from 'node:fs/promises';
import { fsError, isErrno } from '../../errors.js';
import { CriParser, type LogRecord } from './cri.js';
import { CHUNK, LineSplitter, type OpenLog, openLog, readAt, logFileNames, type LogCursor } from './files.js';

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
