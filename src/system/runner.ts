import { execa } from 'execa';
import { CommandFailedError } from '../errors.js';

/**
 * The one seam to external programs. Everything Corral runs goes through a Runner, so tests can
 * record the calls (`RecordingRunner`) instead of running them.
 */
export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  input?: string;
  /** Resolve instead of throwing when the program exits non-zero. */
  allowFailure?: boolean;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Each line of stdout and stderr as it comes (long builds report progress). */
  onOutput?: (line: string) => void;
  /** Stop the program (SIGTERM) when aborted. */
  signal?: AbortSignal;
}

export interface Runner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export class ExecaRunner implements Runner {
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const sub = execa(file, args, {
      reject: false,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.env ? { env: options.env, extendEnv: true } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      // Cancelled: SIGTERM, and a minute to clean up (a build stops its own children) before SIGKILL.
      ...(options.signal ? { cancelSignal: options.signal, forceKillAfterDelay: 60_000 } : {}),
      stripFinalNewline: true,
    });
    if (options.onOutput) for (const stream of [sub.stdout, sub.stderr]) forEachLine(stream, options.onOutput);
    const result = await sub;
    const exitCode = result.exitCode ?? (result.signal ? 128 : 1);
    if (exitCode !== 0 && !options.allowFailure) {
      const cmd = [file, ...args].join(' ');
      throw new CommandFailedError(cmd, exitCode, String(result.stderr || result.message || ''));
    }
    return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode };
  }
}

function forEachLine(stream: NodeJS.ReadableStream | null, fn: (line: string) => void): void {
  if (!stream) return;
  let rest = '';
  stream.on('data', (chunk: Buffer | string) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l.trim()) fn(l);
  });
  stream.on('end', () => {
    if (rest.trim()) fn(rest);
  });
}

/** Records each call and answers from a script; for unit tests. */
export class RecordingRunner implements Runner {
  readonly calls: { file: string; args: string[] }[] = [];
  constructor(private readonly answer: (file: string, args: readonly string[]) => Partial<RunResult> = () => ({})) {}
  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ file, args: [...args] });
    const a = this.answer(file, args);
    const result = { stdout: a.stdout ?? '', stderr: a.stderr ?? '', exitCode: a.exitCode ?? 0 };
    if (options.onOutput) for (const l of `${result.stdout}\n${result.stderr}`.split('\n')) if (l.trim()) options.onOutput(l);
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw new CommandFailedError([file, ...args].join(' '), result.exitCode, result.stderr);
    }
    return result;
  }
}
