import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { CorralError } from '../errors.js';

/**
 * Runs `corral-shim oci-create|oci-exec` with our stdio passed through untouched (they are the
 * container's: conmon's or containerd-shim's pipes or the caller's terminal) and reads its one-line
 * report from fd 3: `pid N` or `error MESSAGE`.
 */
export interface ShimRun {
  pid: number;
  /** Resolves with the helper's exit code (oci-exec in the foreground: the process's status). */
  exited: Promise<number>;
}

export function runShim(shim: string, role: 'oci-create' | 'oci-exec', args: readonly string[]): Promise<ShimRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(shim, [role, ...args], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
    const exited = new Promise<number>((res) => child.on('close', (code, signal) => res(code ?? 128 + (signal ? 9 : 0))));
    let text = '';
    const report = child.stdio[3] as Readable;
    report.setEncoding('utf8');
    report.on('data', (d: string) => (text += d));
    child.on('error', (err) => reject(new CorralError('unavailable', `run ${shim}: ${err.message}`)));
    report.on('end', () => {
      const line = text.split('\n')[0] ?? '';
      const pid = /^pid (\d+)$/.exec(line);
      if (pid) return resolve({ pid: Number(pid[1]), exited });
      const msg = line.startsWith('error ') ? line.slice(6) : `${role} ended without a report`;
      void exited.then(() => reject(new CorralError('command_failed', msg)));
    });
  });
}
