import { appendFileSync } from 'node:fs';

/** What every verb gets: the state root, the shim, and the --log sink (runc's format). */
export interface Context {
  root: string;
  shim: string;
  logFile?: string;
  logJson: boolean;
  /** Written to --log (or stderr without it) at level warning. */
  warn(msg: string): void;
  /** stdout of the verb (state, ps, features, …). */
  out(text: string): void;
}

export function logLine(file: string | undefined, json: boolean, level: string, msg: string): void {
  const time = new Date().toISOString();
  const line = json ? JSON.stringify({ level, msg, time }) : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
  if (!file) {
    process.stderr.write(`${line}\n`);
    return;
  }
  try {
    appendFileSync(file, `${line}\n`);
  } catch {
    process.stderr.write(`${line}\n`);
  }
}
