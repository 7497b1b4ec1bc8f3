/**
 * What corrald's parts log through (the daemon's JsonLogger writes one JSON object per line);
 * fields are structured context, never folded into the message.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
