import { describe, expect, it } from 'vitest';
import { nextHealth, parseHealthcheck } from '../../../src/runtime/healthcheck.js';

const h = parseHealthcheck({ test: 'true', interval: '1s', retries: 2, startPeriod: '10s' });
const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + ms).toISOString();
const probe = (exitCode: number, ms: number, timedOut = false) => ({ exitCode, output: 'o', timedOut, start: at(ms - 10), end: at(ms) });
const started = Date.parse('2026-01-01T00:00:00Z');

describe('parseHealthcheck', () => {
  it('applies Docker defaults and runs a string with sh -c', () => {
    expect(parseHealthcheck({ test: 'wget -q localhost' })).toEqual({ test: ['sh', '-c', 'wget -q localhost'], intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, onFailure: 'none' });
  });
  it.each([
    [{ test: '' }, /--health-cmd/],
    [{ test: 'x', interval: 'often' }, /--health-interval "often"/],
    [{ test: 'x', retries: 0 }, /--health-retries/],
    [{ test: 'x', onFailure: 'explode' }, /--health-on-failure/],
    [{ test: 'x', colour: 1 }, /unknown field "colour"/],
  ])('refuses %j', (raw, msg) => expect(() => parseHealthcheck(raw)).toThrow(msg));
});

describe('nextHealth', () => {
  const s0 = { status: 'starting' as const, failingStreak: 0, log: [] };
  it('is healthy after a success', () => expect(nextHealth(s0, h, probe(0, 1000), started).status).toBe('healthy'));
  it('does not count failures in the start period', () => {
    const s = nextHealth(s0, h, probe(1, 5000), started);
    expect(s).toMatchObject({ status: 'starting', failingStreak: 0 });
  });
  it('turns unhealthy after `retries` failures, and a success resets it', () => {
    let s = nextHealth(s0, h, probe(0, 11_000), started);
    s = nextHealth(s, h, probe(1, 12_000), started);
    expect(s).toMatchObject({ status: 'healthy', failingStreak: 1 });
    s = nextHealth(s, h, probe(1, 13_000, true), started);
    expect(s).toMatchObject({ status: 'unhealthy', failingStreak: 2 });
    expect(s.log.at(-1)?.output).toMatch(/exceeded timeout/);
    s = nextHealth(s, h, probe(0, 14_000), started);
    expect(s).toMatchObject({ status: 'healthy', failingStreak: 0 });
  });
  it('keeps the last 5 results', () => {
    let s = nextHealth(s0, h, probe(0, 11_000), started);
    for (let i = 0; i < 10; i++) s = nextHealth(s, h, probe(0, 12_000 + i), started);
    expect(s.log).toHaveLength(5);
  });
});
