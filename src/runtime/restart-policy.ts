import type { RestartPolicy, RestartPolicyName } from '../api/types.js';
import { ValidationError } from '../errors.js';

/** The type is API data (ContainerConfig.restartPolicy); parsing and formatting live here. */
export type { RestartPolicy, RestartPolicyName } from '../api/types.js';

export const NO_RESTART: RestartPolicy = { name: 'no', maxRetries: null };

/** `no`, `on-failure`, `on-failure:5`, `always`, `unless-stopped`. */
export function parseRestartPolicy(v: string, flag = '--restart'): RestartPolicy {
  const m = /^(no|on-failure|always|unless-stopped)(?::(\d+))?$/.exec(v.trim());
  if (!m) throw new ValidationError(`${flag} ${JSON.stringify(v)}: expected no, on-failure[:MAX], always or unless-stopped`);
  const name = m[1] as RestartPolicyName;
  if (m[2] !== undefined && name !== 'on-failure') throw new ValidationError(`${flag} ${v}: only on-failure takes a maximum (on-failure:5)`);
  const max = m[2] === undefined ? null : Number(m[2]);
  if (max !== null && (max < 1 || max > 1_000_000)) throw new ValidationError(`${flag} ${v}: the maximum must be 1..1000000`);
  return { name, maxRetries: max };
}

export function formatRestartPolicy(p: RestartPolicy): string {
  return p.maxRetries === null ? p.name : `${p.name}:${p.maxRetries}`;
}

/** What corrald remembers about restarts of one container (policy.json). */
export interface RestartState {
  /** Restarts done by the policy (Docker's RestartCount). */
  restartCount: number;
  /** Consecutive short runs, for the back-off; reset after a healthy run. */
  backoffLevel: number;
  /** The user stopped or killed it: unless-stopped leaves it down, also across reboots. */
  userStopped: boolean;
  /** startedAt of the run the last decision was about, so each exit is decided once. */
  decidedRun: string | null;
  /** When a restart is due (ms since epoch), while one is pending. */
  nextRestartAt: number | null;
}

export const INITIAL_RESTART_STATE: RestartState = { restartCount: 0, backoffLevel: 0, userStopped: false, decidedRun: null, nextRestartAt: null };

export interface Backoff {
  /** First delay; Docker uses 100 ms, Kubernetes 10 s. */
  baseMs: number;
  /** Cap; Kubernetes uses 300 s. */
  maxMs: number;
  /** A run this long resets the back-off; Kubernetes uses 10 min. */
  resetAfterMs: number;
}

/** Docker's fast first retry (100 ms), then Kubernetes' doubling, cap (5 min) and reset (10 min). */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 100, maxMs: 300_000, resetAfterMs: 600_000 };

export interface ExitFacts {
  exitCode: number | null;
  /** How long the run lasted, when known. */
  ranMs: number | null;
}

export type Decision = { restart: false; reason: string } | { restart: true; delayMs: number; backoffLevel: number };

/**
 * Pure: whether and when to restart after an exit. The delay doubles with each consecutive
 * restart (0.1 s, 0.2 s, 0.4 s … 300 s) and starts over after a run of resetAfterMs.
 */
export function decide(p: RestartPolicy, s: RestartState, exit: ExitFacts, b: Backoff = DEFAULT_BACKOFF): Decision {
  if (p.name === 'no') return { restart: false, reason: 'restart policy is no' };
  if (s.userStopped && p.name !== 'always') return { restart: false, reason: 'stopped by the user' };
  if (s.userStopped) return { restart: false, reason: 'stopped by the user (always restarts it at the next daemon start)' };
  if (p.name === 'on-failure') {
    if (exit.exitCode === 0) return { restart: false, reason: 'exited 0 (on-failure)' };
    if (p.maxRetries !== null && s.restartCount >= p.maxRetries) return { restart: false, reason: `gave up after ${s.restartCount} restarts (on-failure:${p.maxRetries})` };
  }
  const level = exit.ranMs !== null && exit.ranMs >= b.resetAfterMs ? 0 : s.backoffLevel;
  const delayMs = Math.min(b.maxMs, b.baseMs * 2 ** level);
  return { restart: true, delayMs, backoffLevel: level + 1 };
}
