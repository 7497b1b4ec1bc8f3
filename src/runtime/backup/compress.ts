import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { CorralError } from '../../errors.js';
import { findProgram } from '../../system/which.js';
import { filterThrough } from '../../util/filter-through.js';

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
  yield* filterThrough(program, ['-q', '-c', '-3', '-T1'], tar, (m) => new CorralError('internal', `compress with ${m}`));
}
