import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertCan, can } from '../../../src/runtime/status.js';
import { deriveState, statusText } from '../../../src/runtime/state.js';
import { humanDuration } from '../../../src/util/duration.js';

describe('transition table', () => {
  it('allows only what each status allows', () => {
    expect(can('created', 'start')).toBe(true);
    expect(can('running', 'start')).toBe(false);
    expect(can('running', 'exec')).toBe(true);
    expect(can('exited', 'exec')).toBe(false);
    expect(can('exited', 'kill')).toBe(false);
    expect(can('running', 'remove')).toBe(false);
  });
  it('explains a refusal', () => {
    expect(() => assertCan('web', 'running', 'remove')).toThrow('cannot remove container web: it is running: stop it first, or use --force');
    expect(() => assertCan('web', 'exited', 'exec')).toThrow(/not running/);
  });
});

describe('deriveState', () => {
  // A fake /proc: pid 100 alive with start time 555, pid 200 a zombie.
  const proc = mkdtempSync(join(tmpdir(), 'corral-proc-'));
  afterAll(() => rmSync(proc, { recursive: true, force: true }));
  const stat = (pid: number, state: string, start: number): void => {
    mkdirSync(join(proc, String(pid)), { recursive: true });
    const fields = Array.from({ length: 50 }, (_, i) => String(i));
    fields[0] = state; // field 3
    fields[19] = String(start); // field 22
    writeFileSync(join(proc, String(pid), 'stat'), `${pid} (odd name) x) ${fields.join(' ')}`);
  };
  stat(100, 'S', 555);
  stat(200, 'Z', 777);
  const rt = (pid: number, start: number) => ({ monitorPid: 9, monitorStartTime: 1, pid, pidStartTime: start, startedAt: '2026-01-01T00:00:00Z' });

  it('is created without records', async () => {
    expect((await deriveState(undefined, undefined, proc)).status).toBe('created');
  });
  it('is running when pid and start time match', async () => {
    expect(await deriveState(rt(100, 555), undefined, proc)).toMatchObject({ status: 'running', pid: 100 });
  });
  it('does not mistake a reused pid for the container', async () => {
    expect((await deriveState(rt(100, 556), undefined, proc)).status).toBe('exited');
  });
  it('treats a zombie as exited', async () => {
    expect((await deriveState(rt(200, 777), undefined, proc)).status).toBe('exited');
  });
  it('reports the exit record', async () => {
    const s = await deriveState(rt(100, 555), { pid: 100, exitCode: 137, signal: 9, finishedAt: '2026-01-01T00:00:01Z', error: null }, proc);
    expect(s).toMatchObject({ status: 'exited', exitCode: 137, signal: 9 });
  });
});

describe('status text', () => {
  it('reads like docker ps', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const base = { pid: null, monitorPid: null, exitCode: null, signal: null, error: null, startedAt: null, finishedAt: null };
    expect(statusText({ ...base, status: 'created' }, now)).toBe('Created');
    expect(statusText({ ...base, status: 'running', startedAt: '2026-01-01T00:09:55Z' }, now)).toBe('Up 5 seconds');
    expect(statusText({ ...base, status: 'exited', exitCode: 3, finishedAt: '2026-01-01T00:07:00Z' }, now)).toBe('Exited (3) 3 minutes ago');
    expect(humanDuration(3_600_000 * 50)).toBe('2 days');
  });
});
