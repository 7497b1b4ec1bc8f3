import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CriParser, followLog, readLog } from '../../../src/runtime/logs.js';

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

describe('readLog and followLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'container.log');
  writeFileSync(file, [1, 2, 3, 4].map((n) => `2026-01-01T00:00:0${n}Z stdout F line${n}\n`).join(''));

  it('tails', async () => {
    expect((await readLog(file, 2)).records.map((r) => r.log)).toEqual(['line3\n', 'line4\n']);
    expect((await readLog(file, 0)).records).toEqual([]);
    expect((await readLog(join(dir, 'missing'))).records).toEqual([]);
  });

  it('follows until the writer is done', async () => {
    const { offset } = await readLog(file);
    let finished = false;
    setTimeout(() => appendFileSync(file, '2026-01-01T00:00:05Z stderr F line5\n'), 50);
    setTimeout(() => (finished = true), 300);
    const got: string[] = [];
    for await (const r of followLog(file, offset, async () => finished)) got.push(r.log);
    expect(got).toEqual(['line5\n']);
  });
});
