import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventJournal } from '../../src/daemon/events.js';
import { parseTimeArg } from '../../src/util/time.js';

describe('EventJournal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-events-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const c = { id: 'ab'.repeat(32), name: 'web' };

  it('persists events and reads them back after a restart, skipping a torn line', async () => {
    const file = join(dir, 'a.ndjson');
    const j = new EventJournal(file);
    j.record('create', c);
    j.record('die', c, { exitCode: 0 });
    await j.flushed();
    appendFileSync(file, '{"torn');
    const again = new EventJournal(file);
    await again.load();
    expect(again.query({}).map((e) => e.type)).toEqual(['create', 'die']);
  });

  it('filters by time, container and type, and streams live events', () => {
    const j = new EventJournal(join(dir, 'b.ndjson'));
    const seen: string[] = [];
    const off = j.subscribe({ type: ['oom'] }, (e) => seen.push(e.type));
    j.record('start', c);
    j.record('oom', c, { oomKills: 1 });
    j.record('oom', { id: 'cd'.repeat(32), name: 'db' });
    off();
    j.record('oom', c);
    expect(seen).toEqual(['oom', 'oom']);
    expect(j.query({ container: ['web'], type: ['oom'] })).toHaveLength(2);
    expect(j.query({ container: ['cdcd'] })).toHaveLength(1);
    expect(j.query({ since: Date.now() + 1000 })).toEqual([]);
  });

  it('stays bounded', async () => {
    const file = join(dir, 'c.ndjson');
    const j = new EventJournal(file, 10);
    for (let i = 0; i < 30; i++) j.record('start', c, { i });
    await new Promise((r) => setTimeout(r, 100));
    expect(j.query({}).length).toBeLessThanOrEqual(12);
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeLessThanOrEqual(20);
  });
});

describe('parseTimeArg', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it.each([
    ['10m', now - 600_000],
    ['1h30m', now - 5_400_000],
    ['0s', now],
    ['1767225600', 1767225600_000],
    ['2026-01-01T11:00:00Z', now - 3_600_000],
  ])('%s', (v, want) => expect(parseTimeArg(v, '--since', now)).toBe(want));
  it('refuses nonsense', () => expect(() => parseTimeArg('yesterday', '--since', now)).toThrow(/--since "yesterday": expected a duration/));
});
