import { spawn } from 'node:child_process';
import { FrameDecoder, FrameType, decodeExit, encodeSignal } from '../api/frames.js';
import { execArgv, type ExecOptions } from '../namespaces/argv.js';

export interface ProbeResult {
  exitCode: number;
  /** Combined stdout and stderr, cut at 4 KiB (Docker keeps the same much). */
  output: string;
  timedOut: boolean;
  durationMs: number;
}

const MAX_OUTPUT = 4096;

/**
 * Run one command inside a running container as `exec` does (the shim's exec stage under a
 * foreground monitor speaking frames on its stdio) and collect its exit code and output. On
 * timeout the process is killed with a SIGNAL frame, so nothing is left running in the container.
 */
export function runProbe(o: Omit<ExecOptions, 'tty' | 'stdin'>, timeoutMs: number): Promise<ProbeResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(o.shim, execArgv({ ...o, tty: false, stdin: false }), { stdio: ['pipe', 'pipe', 'ignore'] });
    const decoder = new FrameDecoder();
    let output = '';
    let exitCode: number | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.stdin.write(encodeSignal(9));
      // If the monitor does not answer, do not wait forever.
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }, timeoutMs);
    child.stdin.on('error', () => {});
    child.stdout.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if ((f.type === FrameType.STDOUT || f.type === FrameType.STDERR) && output.length < MAX_OUTPUT) output += f.payload.toString('utf8');
        else if (f.type === FrameType.ERROR) output += f.payload.toString('utf8');
        else if (f.type === FrameType.EXIT) exitCode = decodeExit(f.payload).exitCode;
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: exitCode ?? code ?? 1, output: output.slice(0, MAX_OUTPUT), timedOut, durationMs: Date.now() - t0 });
    });
  });
}
