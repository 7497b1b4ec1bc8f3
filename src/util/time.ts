import { ValidationError } from '../errors.js';

/**
 * Docker's --since/--until forms: a duration back from now (`30s`, `10m`, `1h30m`, `2d`), an
 * RFC 3339 time, or Unix seconds. Returns milliseconds since the epoch.
 */
export function parseTimeArg(v: string, flag: string, now = Date.now()): number {
  const s = v.trim();
  if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) {
    const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
    let ms = 0;
    for (const [, n, , u] of s.matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(n) * units[u!]!;
    return now - ms;
  }
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  if (!Number.isNaN(t) && /^\d{4}-\d\d-\d\d/.test(s)) return t;
  throw new ValidationError(`${flag} ${JSON.stringify(v)}: expected a duration (10m, 1h), an RFC 3339 time or Unix seconds`);
}

/** A Docker duration: `30s`, `1m30s`, `500ms`, `2h`. Returns milliseconds. */
export function parseDuration(v: string, flag: string): number {
  const s = v.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) throw new ValidationError(`${flag} ${JSON.stringify(v)}: expected a duration like 30s, 1m30s or 500ms`);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const [, n, , u] of s.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * units[u!]!;
  return ms;
}
