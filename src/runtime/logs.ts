import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
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
    this.pending += chunk;
    const out: LogRecord[] = [];
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      const m = LINE.exec(line);
      if (!m) continue;
      const [, time, stream, tag, text] = m as unknown as [string, string, 'stdout' | 'stderr', 'F' | 'P', string];
      if (this.partial && this.partial.stream !== stream) out.push(this.flushPartial()!);
      if (tag === 'P') {
        this.partial = this.partial ? { ...this.partial, text: this.partial.text + text } : { time, stream, text };
        continue;
      }
      const head = this.partial?.stream === stream ? this.partial : undefined;
      this.partial = undefined;
      out.push({ time: head?.time ?? time, stream, log: (head?.text ?? '') + text + '\n' });
    }
    return out;
  }

  /** A partial record with no end yet (output that did not end in a newline). */
  flushPartial(): LogRecord | undefined {
    const p = this.partial;
    this.partial = undefined;
    return p ? { time: p.time, stream: p.stream, log: p.text } : undefined;
  }
}

/** All records of a log file, or the last `tail` of them. */
export async function readLog(path: string, tail?: number): Promise<{ records: LogRecord[]; offset: number }> {
  let text = '';
  try {
    const fh = await open(path, 'r');
    try {
      text = (await fh.readFile()).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError('read', path, err);
  }
  const parser = new CriParser();
  // Only complete lines are consumed; a record being written is picked up by follow.
  const complete = text.lastIndexOf('\n') + 1;
  const records = parser.push(text.slice(0, complete));
  const last = parser.flushPartial();
  if (last) records.push(last);
  const offset = Buffer.byteLength(text.slice(0, complete));
  return { records: tail !== undefined && tail >= 0 ? records.slice(Math.max(0, records.length - tail)) : records, offset };
}

/**
 * Follow a log file from `offset`, yielding records until `done()` says the writer has finished
 * and everything written has been read.
 */
export async function* followLog(path: string, offset: number, done: () => Promise<boolean>, signal?: AbortSignal): AsyncGenerator<LogRecord> {
  const parser = new CriParser();
  // A read may end inside a multi-byte character: decode across reads.
  const decoder = new StringDecoder('utf8');
  let pos = offset;
  for (;;) {
    if (signal?.aborted) return;
    const finished = await done();
    let size = 0;
    try {
      size = (await stat(path)).size;
    } catch {
      size = 0;
    }
    if (size > pos) {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(Math.min(size - pos, 1 << 20));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        pos += bytesRead;
        for (const r of parser.push(decoder.write(buf.subarray(0, bytesRead)))) yield r;
      } finally {
        await fh.close();
      }
      continue;
    }
    if (finished) {
      const last = parser.flushPartial();
      if (last) yield last;
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
