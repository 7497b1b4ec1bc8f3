import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CorralError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';
import { parseReport, RUN_LINE, type MonitorReport } from './shim-protocol.js';

/** Where the shim should be, whether or not it has been built. */
export function shimPathUnchecked(): string {
  return process.env.CORRAL_SHIM ?? join(packageRoot(), 'build', 'corral-shim');
}

/** Where the shim lives: built by scripts/build-native, or CORRAL_SHIM for development. */
export function shimPath(): string {
  const p = shimPathUnchecked();
  try {
    accessSync(p, constants.X_OK);
  } catch {
    throw new CorralError('unavailable', `corral-shim not found at ${p}: run "npm run build" (needs cc and libc6-dev)`);
  }
  return p;
}

export { parseReport, type MonitorReport } from './shim-protocol.js';

export interface SpawnedMonitor {
  child: ChildProcess;
  /** The next report line; rejects if the monitor exits without one. */
  next(): Promise<MonitorReport>;
  /**
   * Create-then-start: after `ready` from a monitor spawned with `waitRun` (and `--wait-run` in its
   * argv), let the container's program start; `started` or `failed` follows.
   */
  run(): void;
  /** Stop reading reports and let the monitor live on its own (a `waitRun` start not run is aborted). */
  release(): void;
}

export interface SpawnMonitorOptions {
  /** The monitor gets `--wait-run`: its stdin is a pipe for `run()`. */
  waitRun?: boolean;
}

/**
 * Start a detached monitor. Its stdout is the report pipe; its stderr goes to a file so a monitor
 * that dies can be diagnosed.
 */
export function spawnMonitor(shim: string, args: readonly string[], stderrFile: string, opts: SpawnMonitorOptions = {}): SpawnedMonitor {
  const errFd = openSync(stderrFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(shim, args, { detached: true, stdio: [opts.waitRun ? 'pipe' : 'ignore', 'pipe', errFd] });
  } finally {
    closeSync(errFd);
  }
  const lines: string[] = [];
  const waiters: { resolve: (r: MonitorReport) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
  let ran = false;
  const rl = createInterface({ input: child.stdout! });
  const deliver = (): void => {
    while (waiters.length > 0) {
      const line = lines.shift();
      if (line !== undefined) {
        const report = parseReport(line);
        const w = waiters.shift()!;
        if (report) w.resolve(report);
        else w.reject(new CorralError('internal', `corral-shim monitor: unexpected report ${JSON.stringify(line)}`));
      } else if (ended) {
        waiters.shift()!.reject(ended);
      } else return;
    }
  };
  rl.on('line', (l) => {
    lines.push(l);
    deliver();
  });
  rl.on('close', () => {
    ended = new CorralError('internal', `corral-shim monitor exited without reporting (see ${stderrFile})`);
    deliver();
  });
  // A monitor gone before reading "run" must not crash corrald with EPIPE.
  child.stdin?.on('error', () => {});
  child.on('error', (err) => {
    ended = new CorralError('internal', `spawn ${shim}: ${err.message}`);
    deliver();
  });
  return {
    child,
    next: () => new Promise((resolve, reject) => {
      waiters.push({ resolve, reject });
      deliver();
    }),
    run: () => {
      if (!child.stdin) throw new CorralError('internal', 'corral-shim monitor: run() needs spawnMonitor(..., { waitRun: true })');
      ran = true;
      child.stdin.end(RUN_LINE); // ends the pipe once written: the monitor reads "run", then EOF
    },
    release: () => {
      if (!ran) child.stdin?.destroy();
      rl.close();
      child.stdout?.destroy();
      child.unref();
    },
  };
}
