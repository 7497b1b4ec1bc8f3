import { spawn } from 'node:child_process';

/**
 * Streams `input` through a program's stdin and yields its stdout (zstd, xz, a compressor or
 * decompressor), with backpressure both ways. A program that exits non-zero fails with
 * `fail(last stderr line)`; a consumer that stops early kills it. An error of `input` ends the
 * program and is rethrown as it is.
 */
export async function* filterThrough(program: string, args: readonly string[], input: AsyncIterable<Buffer>, fail: (message: string) => Error): AsyncGenerator<Buffer> {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr = (stderr + s).slice(-4096)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  let feedError: unknown;
  let stopped = false;
  child.stdin.on('error', () => {}); // EPIPE when the program stops reading: its exit status says why
  const feed = (async () => {
    try {
      for await (const c of input) {
        if (stopped) break;
        if (!child.stdin.write(c)) await new Promise<void>((ok) => { child.stdin.once('drain', ok); child.once('close', ok); });
      }
    } catch (err) {
      feedError = err;
      child.kill('SIGKILL');
    } finally {
      child.stdin.end();
    }
  })();
  try {
    for await (const c of child.stdout) yield c as Buffer;
    const code = await exited;
    await feed;
    if (feedError) throw feedError;
    if (code !== 0) throw fail(`${program}: ${stderr.trim().split('\n').pop() || `exit ${code ?? 'by signal'}`}`);
  } finally {
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited.catch(() => {});
    // Not `await feed` here: after an early stop it may wait on `input` for its next chunk, and
    // it ends by itself then (it never rejects).
  }
}
