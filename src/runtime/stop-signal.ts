import { constants } from 'node:os';
import { ValidationError } from '../errors.js';

/** Linux's real-time signal range as glibc presents it (it keeps 32 and 33 for itself). */
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** What systemd (and other inits that follow it) take as "halt the system". */
export const BOOT_STOP_SIGNAL = 'SIGRTMIN+3';

/**
 * Docker's `--stop-signal`: `SIGTERM`, `TERM`, `term`, `15`, `SIGRTMIN+3`, `RTMAX-2`. Returns the
 * normalized text stored in config.json (`SIGTERM`, `SIGRTMIN+3`, `37`).
 */
export function normalizeStopSignal(v: string, flag = '--stop-signal'): string {
  const s = v.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > SIGRTMAX) throw new ValidationError(`${flag} ${v}: expected a signal number 1..${SIGRTMAX}`);
    return String(n);
  }
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const n = rtNumber(rt[1]!, rt[2], rt[3]);
    if (n < SIGRTMIN || n > SIGRTMAX) throw new ValidationError(`${flag} ${v}: outside SIGRTMIN..SIGRTMAX (${SIGRTMIN}..${SIGRTMAX})`);
    return rt[2] === undefined || rt[3] === '0' ? `SIGRT${rt[1]}` : `SIGRT${rt[1]}${rt[2]}${Number(rt[3])}`;
  }
  if (!(name in constants.signals)) throw new ValidationError(`${flag} ${v}: unknown signal (e.g. SIGTERM, SIGRTMIN+3, 15)`);
  return name;
}

function rtNumber(base: string, sign: string | undefined, off: string | undefined): number {
  const b = base === 'MIN' ? SIGRTMIN : SIGRTMAX;
  if (sign === undefined) return b;
  return sign === '+' ? b + Number(off) : b - Number(off);
}

/** A normalized stop signal as what process.kill takes (real-time signals have no name in Node). */
export function stopSignalValue(normalized: string): NodeJS.Signals | number {
  if (/^\d+$/.test(normalized)) return Number(normalized);
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(normalized);
  if (rt) return rtNumber(rt[1]!, rt[2], rt[3]);
  return normalized as NodeJS.Signals;
}
