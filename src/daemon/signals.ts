import { constants } from 'node:os';
import { ValidationError } from '../errors.js';

/** `SIGTERM`, `TERM`, `term` or `15` → a signal Node can send. */
export function parseSignal(v: string): NodeJS.Signals | number {
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 64) throw new ValidationError(`signal ${v}: expected 1..64`);
    return n;
  }
  const name = (v.toUpperCase().startsWith('SIG') ? v.toUpperCase() : `SIG${v.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in constants.signals)) throw new ValidationError(`signal ${v}: unknown signal (e.g. SIGTERM, SIGKILL, HUP, 9)`);
  return name;
}
