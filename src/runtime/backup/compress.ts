import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { CorralError } from '../../errors.js';
import { findProgram } from '../../system/which.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * Backups are zstd-compressed where the host has the `zstd` tool: it compresses several times
 * faster than gzip at a similar ratio, which is downtime in a `move`. Elsewhere gzip (Node's own
 * zlib, nothing to install). A restore reads either by its magic number (rootfs/archive/decompress.ts).
 */
export const compress = {
  async defaultKind(): Promise<Compression> {
    return (await findProgram('zstd').then(() => true, () => false)) ? 'zstd' : 'gzip';
  },

  stream(tar: AsyncIterable<Buffer>, kind: Compression): AsyncIterable<Buffer> {
    if (kind === 'none') return tar;
    if (kind === 'gzip') {
      const src = Readable.from(tar, { objectMode: false });
      const gz = createGzip({ level: 6 });
      src.on('error', (err) => gz.destroy(err));
      return src.pipe(gz);
    }
    return viaZstd(tar);
  },
};

async function* viaZstd(tar: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const program = await findProgram('zstd', 'install zstd, or choose --compression gzip');
  // -T1: one worker thread; a backup must not take every core of the host.
  const child = spawn(program, ['-q', '-c', '-3', '-T1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr = (stderr + s).slice(-4096)));
  const exited = new Promise<number | null>((ok, fail) => {
    child.once('error', fail);
    child.once('close', (code) => ok(code));
  });
  let feedError: unknown;
  let stopped = false;
  child.stdin.on('error', () => {});
  const feed = (async () => {
    try {
      for await (const c of tar) {
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
    if (code !== 0) throw new CorralError('internal', `compress with ${program}: ${stderr.trim().split('\n').pop() || `exit ${code ?? 'by signal'}`}`);
  } finally {
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited.catch(() => {});
    await feed;
  }
}
