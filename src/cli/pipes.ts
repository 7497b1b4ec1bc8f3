/**
 * A reader that goes away (`corral logs X | head -1`) closes our stdout; the next write fails with
 * EPIPE, emitted as an 'error' event that would otherwise crash the CLI with a stack trace. Like
 * `cat`, end quietly instead: nothing more can be written and nobody is left to read an error.
 */

interface Closable {
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown;
}

export function endQuietlyOnClosedPipe(
  streams: readonly Closable[],
  exit: (code: number) => void = (code) => process.exit(code),
  beforeExit: () => void = restoreTerminal,
): void {
  for (const s of streams) {
    s.on('error', (err) => {
      if (err.code !== 'EPIPE') throw err;
      beforeExit();
      exit(0);
    });
  }
}

/** A session in raw mode (`run -it … | head`) must not leave the terminal raw. */
function restoreTerminal(): void {
  if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
}
