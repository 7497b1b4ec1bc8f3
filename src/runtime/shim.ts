import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CorralError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';

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

/** One line of the monitor's start-up report (docs/shim.md). */
export type MonitorReport =
  | { kind: 'ready' }
  | { kind: 'started'; pid: number; startTime: number }
  | { kind: 'failed'; code: number; message: string };

export function parseReport(line: string): MonitorReport | undefined {
  if (line === 'ready') return { kind: 'ready' };
  let m = /^started (\d+) (\d+)$/.exec(line);
  if (m) return { kind: 'started', pid: Number(m[1]), startTime: Number(m[2]) };
  m = /^failed (\d+) (.*)$/.exec(line);
  if (m) return { kind: 'failed', code: Number(m[1]), message: m[2]! };
  return undefined;
}

export interface SpawnedMonitor {
  child: ChildProcess;
  /** The next report line; rejects if the monitor exits without one. */
  next(): Promise<MonitorReport>;
  /** Stop reading reports and let the monitor live on its own. */
  release(): void;
}

/**
 * Start a detached monitor. Its stdout is the report pipe; its stderr goes to a file so a monitor
 * that dies can be diagnosed.
 */
export function spawnMonitor(shim: string, args: readonly string[], stderrFile: string): SpawnedMonitor {
  const errFd = openSync(stderrFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(shim, args, { detached: true, stdio: ['ignore', 'pipe', errFd] });
  } finally {
    closeSync(errFd);
  }
  const lines: string[] = [];
  const waiters: { resolve: (r: MonitorReport) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
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
    release: () => {
      rl.close();
      child.stdout?.destroy();
      child.unref();
    },
  };
}
