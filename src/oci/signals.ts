import { constants } from 'node:os';
import { ValidationError } from '../errors.js';

/** A signal as `kill` takes it: a number, a name with or without SIG (TERM, SIGTERM, sigkill). */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new ValidationError(`signal ${s}: out of range 1-64`);
    return n;
  }
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new ValidationError(`signal ${s}: unknown`);
  return n;
}
