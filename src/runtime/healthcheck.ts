import type { HealthConfig, HealthState } from '../api/types.js';
import { ValidationError } from '../errors.js';
import { parseDuration } from '../util/time.js';

/** Docker's defaults. */
export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 };

export const HEALTH_ACTIONS = ['none', 'kill', 'restart', 'stop'] as const;

/** The request's healthcheck (flags or manifest) → a validated HealthConfig. */
export function parseHealthcheck(raw: unknown): HealthConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError('healthcheck: expected an object');
  const h = raw as Record<string, unknown>;
  for (const k of Object.keys(h)) {
    if (!['test', 'interval', 'timeout', 'retries', 'startPeriod', 'onFailure'].includes(k)) throw new ValidationError(`unknown field ${JSON.stringify(k)} in healthcheck`);
  }
  let test: string[];
  if (typeof h.test === 'string' && h.test.trim() !== '') test = ['sh', '-c', h.test];
  else if (Array.isArray(h.test) && h.test.length > 0 && h.test.every((a) => typeof a === 'string')) test = h.test as string[];
  else throw new ValidationError('--health-cmd: expected a command (a string run by sh -c, or a list)');
  const dur = (v: unknown, flag: string, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    const ms = parseDuration(String(v), flag);
    if (ms < min) throw new ValidationError(`${flag} ${v}: must be at least ${min} ms`);
    return ms;
  };
  const retries = h.retries === undefined ? HEALTH_DEFAULTS.retries : Number(h.retries);
  if (!Number.isInteger(retries) || retries < 1 || retries > 1000) throw new ValidationError(`--health-retries ${String(h.retries)}: expected 1..1000`);
  const onFailure = (h.onFailure ?? 'none') as HealthConfig['onFailure'];
  if (!HEALTH_ACTIONS.includes(onFailure)) throw new ValidationError(`--health-on-failure ${String(h.onFailure)}: expected ${HEALTH_ACTIONS.join(', ')}`);
  return {
    test,
    intervalMs: dur(h.interval, '--health-interval', HEALTH_DEFAULTS.intervalMs, 100),
    timeoutMs: dur(h.timeout, '--health-timeout', HEALTH_DEFAULTS.timeoutMs, 100),
    retries,
    startPeriodMs: dur(h.startPeriod, '--health-start-period', HEALTH_DEFAULTS.startPeriodMs, 0),
    onFailure,
  };
}

export interface ProbeOutcome {
  exitCode: number;
  output: string;
  timedOut: boolean;
  start: string;
  end: string;
}

/**
 * Pure: the next health state after one probe (Docker's rules): success makes it healthy and
 * resets the streak; a failure counts toward `retries` unless it happens in the start period;
 * reaching `retries` makes it unhealthy. The last 5 results are kept.
 */
export function nextHealth(prev: HealthState, h: HealthConfig, p: ProbeOutcome, startedAtMs: number): HealthState {
  const ok = p.exitCode === 0 && !p.timedOut;
  const log = [...prev.log, { start: p.start, end: p.end, exitCode: p.timedOut ? -1 : p.exitCode, output: p.timedOut ? `health check exceeded timeout (${h.timeoutMs} ms)` : p.output }].slice(-5);
  if (ok) return { status: 'healthy', failingStreak: 0, log };
  const inStartPeriod = Date.parse(p.end) - startedAtMs < h.startPeriodMs;
  if (inStartPeriod && prev.status === 'starting') return { status: 'starting', failingStreak: prev.failingStreak, log };
  const streak = prev.failingStreak + 1;
  return { status: streak >= h.retries ? 'unhealthy' : prev.status, failingStreak: streak, log };
}
