import { CommanderError } from 'commander';
import { CorralError } from '../errors.js';

/**
 * The one place errors become exit codes (Docker's convention):
 *   0    help or --version shown
 *   2    usage errors (unknown flag, missing argument, bad value)
 *   125  a usage error of run, create or exec (Docker's code: scripts tell it from the container's)
 *   126  the container's command could not be invoked (run/exec)
 *   127  the container's command was not found (run/exec)
 *   125  any other failure of run/exec itself (daemon refused, bad flag value)
 *   1    anything else
 */
export const EXIT_USAGE = 2;
export const EXIT_RUN_FAILED = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

/** Commands whose own failures are 125, to tell them from the container's exit codes. */
const RUN_LIKE = new Set(['run', 'exec']);
/** Commands whose usage errors are 125, as Docker's are. */
const USAGE_125 = new Set(['run', 'create', 'exec']);

export function exitCodeFor(err: unknown, command?: string): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    // `corral help run` is commander.help with exitCode 0; help shown for a missing subcommand is 1
    if (err.code === 'commander.help' && err.exitCode === 0) return 0;
    return command !== undefined && USAGE_125.has(command) ? EXIT_RUN_FAILED : EXIT_USAGE;
  }
  // A --format template that names an unknown field is a usage error like a bad flag.
  if (err instanceof CorralError && err.details?.usage === true) return command !== undefined && USAGE_125.has(command) ? EXIT_RUN_FAILED : EXIT_USAGE;
  const invoke = invocationFailure(err);
  if (invoke !== null) return invoke;
  // A flag value corrald refused (`create --storage-opt size=abc`) is a usage error too.
  if (err instanceof CorralError && err.code === 'validation' && command !== undefined && USAGE_125.has(command)) return EXIT_RUN_FAILED;
  return command !== undefined && RUN_LIKE.has(command) ? EXIT_RUN_FAILED : 1;
}

/**
 * 127 or 126 when the error says the container's command could not be found or run: the daemon's
 * `details.exitCode`, or its message as the shim words it (`exec "x": executable file not found in
 * $PATH`, `exec "x": permission denied`).
 */
export function invocationFailure(err: unknown): number | null {
  if (!(err instanceof CorralError)) return null;
  const code = err.details?.exitCode;
  if (code === EXIT_CANNOT_INVOKE || code === EXIT_NOT_FOUND) return code;
  return invocationFailureFromMessage(err.message);
}

export function invocationFailureFromMessage(message: string): number | null {
  if (!/\bexec:? "[^"]*":/.test(message)) return null;
  if (/executable file not found|no such file or directory/i.test(message)) return EXIT_NOT_FOUND;
  if (/permission denied|exec format error|is a directory|not executable/i.test(message)) return EXIT_CANNOT_INVOKE;
  return null;
}

/** `corral: <message>`, one line. */
export function formatError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `corral: ${oneLine(message.replace(/^error: /, ''))}`;
}

export function oneLine(s: string): string {
  return s.trim().replace(/\s*\n\s*/g, ' ');
}
