import { appendFileSync, closeSync, mkdtempSync, openSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CriParser, followLog, logFileNames, readLog, type LogCursor } from '../../../src/runtime/logs/index.js';

describe('CriParser', () => {
  it('joins partial records and keeps streams apart', () => {
    const p = new CriParser();
    const recs = p.push('2026-01-01T00:00:00.1Z stdout P hel\n2026-01-01T00:00:00.2Z stdout F lo\n2026-01-01T00:00:00.3Z stderr F oops\n');
    expect(recs).toEqual([
      { time: '2026-01-01T00:00:00.1Z', stream: 'stdout', log: 'hello\n' },
      { time: '2026-01-01T00:00:00.3Z', stream: 'stderr', log: 'oops\n' },
    ]);
  });
  it('handles input split anywhere', () => {
    const text = '2026-01-01T00:00:00Z stdout F a b  c\n2026-01-01T00:00:01Z stdout F \n';
    for (let i = 0; i < text.length; i++) {
      const p = new CriParser();
      const out = [...p.push(text.slice(0, i)), ...p.push(text.slice(i))];
      expect(out.map((r) => r.log)).toEqual(['a b  c\n', '\n']);
    }
  });
  it('returns output that did not end in a newline', () => {
    const p = new CriParser();
    expect(p.push('2026-01-01T00:00:00Z stdout P no newline\n')).toEqual([]);
    expect(p.flushPartial()).toEqual({ time: '2026-01-01T00:00:00Z', stream: 'stdout', log: 'no newline' });
  });
});

const line = (n: number | string, stream = 'stdout', tag = 'F'): string => `2026-01-01T00:00:00.${String(n).padStart(3, '0')}Z ${stream} ${tag} line${n}\n`;

async function read(path: string, tail?: number): Promise<{ logs: string[]; cursor: LogCursor }> {
  const logs: string[] = [];
  const cursor = await readLog(path, tail, (r) => logs.push(r.log));
  return { logs, cursor };
}

async function follow(path: string, cursor: LogCursor, act: () => void | Promise<void>): Promise<string[]> {
  let finished = false;
  const got: string[] = [];
  const run = (async () => {
    for await (const r of followLog(path, cursor, async () => finished)) got.push(r.log);
  })();
  await act();
  finished = true;
  await run;
  return got;
}

describe('readLog and followLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'container.log');
  writeFileSync(file, [1, 2, 3, 4].map((n) => line(n)).join(''));

  it('tails', async () => {
    expect((await read(file, 2)).logs).toEqual(['line3\n', 'line4\n']);
    expect((await read(file, 0)).logs).toEqual([]);
    expect((await read(file, 10)).logs).toEqual(['line1\n', 'line2\n', 'line3\n', 'line4\n']);
    expect((await read(join(dir, 'missing'))).logs).toEqual([]);
  });

  it('follows until the writer is done', async () => {
    const { cursor } = await read(file);
    const got = await follow(file, cursor, async () => {
      appendFileSync(file, line(5, 'stderr'));
      await new Promise((r) => setTimeout(r, 250));
    });
    expect(got).toEqual(['line5\n']);
  });
});

describe('a tail joins partial lines and keeps streams apart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'container.log');
  // Records: "line1\n" (F), "line2line3\n" (P + F), err "line4" partial cut by stdout "line5\n", then "line6" unterminated.
  const records = [line(1), line(2, 'stdout', 'P'), line(3), line(4, 'stderr', 'P'), line(5), line(6, 'stdout', 'P')];
  writeFileSync(file, records.join('') + '2026-01-01T00:00:00.007Z stdout F being writ');

  it('gives the same records as a whole read, for every tail', async () => {
    const all = (await read(file)).logs;
    expect(all).toEqual(['line1\n', 'line2line3\n', 'line4', 'line5\n', 'line6']);
    for (let n = 0; n <= all.length + 1; n++) expect((await read(file, n)).logs).toEqual(all.slice(Math.max(0, all.length - n)));
  });

  it('stops at the last complete line (follow takes the rest)', async () => {
    const { cursor } = await read(file, 1);
    expect(cursor.offset).toBe(Buffer.byteLength(records.join('')));
  });
});

describe('rotated files (container.log.N … .1, container.log)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'container.log');
  const lines = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');
  const logs = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `line${from + i}\n`);
  writeFileSync(`${file}.2`, lines(1, 3));
  writeFileSync(`${file}.1`, lines(4, 6));
  writeFileSync(file, lines(7, 8));
  writeFileSync(join(dir, 'container.log.tmp'), lines(90, 91)); // not one of ours

  it('reads them oldest first', async () => {
    expect(await logFileNames(file)).toEqual([`${file}.2`, `${file}.1`, file]);
    expect((await read(file)).logs).toEqual(logs(1, 8));
  });

  it('tails across them', async () => {
    expect((await read(file, 4)).logs).toEqual(logs(5, 8));
    expect((await read(file, 7)).logs).toEqual(logs(2, 8));
    expect((await read(file, 100)).logs).toEqual(logs(1, 8));
  });

  it('follows across a rotation and a truncation', async () => {
    const { cursor } = await read(file);
    const got = await follow(file, cursor, async () => {
      appendFileSync(file, lines(9, 9));
      // What the monitor does: .1 -> .2, live -> .1, a new live file.
      renameSync(`${file}.1`, `${file}.2`);
      renameSync(file, `${file}.1`);
      writeFileSync(file, lines(10, 11));
      await new Promise((r) => setTimeout(r, 300));
      // Two rotations between polls: the follower still reads every file in order.
      appendFileSync(file, lines(12, 12));
      renameSync(`${file}.1`, `${file}.2`);
      renameSync(file, `${file}.1`);
      writeFileSync(file, lines(13, 13));
      renameSync(`${file}.1`, `${file}.2`);
      renameSync(file, `${file}.1`);
      writeFileSync(file, lines(14, 14));
      await new Promise((r) => setTimeout(r, 300));
      // A cap of one file truncates in place (seen when the size is below what was read).
      truncateSync(file, 0);
      appendFileSync(file, line('a'));
      await new Promise((r) => setTimeout(r, 300));
    });
    expect(got).toEqual([...logs(9, 14), 'linea\n']);
  });
});

describe('a log larger than 2 GiB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'container.log');

  it('is tailed by seeking from the end, and followed from there', async () => {
    // A sparse file: 3 GiB of holes, then real records (readFile would throw ERR_FS_FILE_TOO_LARGE).
    const size = 3 * 1024 ** 3;
    const fd = openSync(file, 'w');
    try {
      const tailText = '\n' + [1, 2, 3].map((n) => line(n)).join('');
      writeSync(fd, tailText, size);
    } finally {
      closeSync(fd);
    }
    const { logs, cursor } = await read(file, 2);
    expect(logs).toEqual(['line2\n', 'line3\n']);
    expect(cursor.offset).toBe(statSync(file).size);
    const got = await follow(file, cursor, async () => {
      appendFileSync(file, line(4));
      await new Promise((r) => setTimeout(r, 250));
    });
    expect(got).toEqual(['line4\n']);
  });
});

describe('a line longer than any record (not written by the monitor)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'container.log');
  writeFileSync(file, line(1) + 'x'.repeat(3 << 20) + '\n' + line(2) + line(3));

  it('is skipped forwards, backwards and when followed', async () => {
    expect((await read(file)).logs).toEqual(['line1\n', 'line2\n', 'line3\n']);
    expect((await read(file, 100)).logs).toEqual(['line1\n', 'line2\n', 'line3\n']);
    expect(await follow(file, { ino: undefined, offset: 0 }, () => undefined)).toEqual(['line1\n', 'line2\n', 'line3\n']);
  });
});
