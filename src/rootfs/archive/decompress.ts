import { filterThrough } from '../../util/filter-through.js';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CorralError } from '../../errors.js';
import { findProgram } from '../../system/which.js';
import { archiveError } from './errors.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

/**
 * Decompression by magic number, never by file name (stdin has none). gzip is Node's zlib; xz,
 * zstd and bzip2 go through the host's tools (Node 20 has none of them), so a host without
 * `zstd` refuses zstd archives with a message that says how to get it.
 */
const MAGIC: [Compression, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

const TOOLS: Record<Exclude<Compression, 'none' | 'gzip'>, { program: string; pkg: string }> = {
  xz: { program: 'xz', pkg: 'xz-utils' },
  zstd: { program: 'zstd', pkg: 'zstd' },
  bzip2: { program: 'bzip2', pkg: 'bzip2' },
};

export function detectCompression(head: Buffer): Compression {
  for (const [kind, magic] of MAGIC) if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return kind;
  return 'none';
}

export interface Decompressed {
  compression: Compression;
  /** The tar stream. Stopping early (return/throw in a for-await) stops the tool and the source. */
  chunks: AsyncIterable<Buffer>;
}

/** Peek at the first bytes of `source` and decompress what follows. */
export async function decompress(source: AsyncIterable<Buffer | string>): Promise<Decompressed> {
  const it = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 6) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, Buffer.from(r.value)]);
  }
  const raw = (async function* (): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      if (ended) return;
      for (let r = await it.next(); !r.done; r = await it.next()) yield Buffer.from(r.value);
    } finally {
      if (!ended) await it.return?.();
    }
  })();
  const compression = detectCompression(head);
  if (compression === 'none') return { compression, chunks: raw };
  if (compression === 'gzip') return { compression, chunks: gunzip(raw) };
  const tool = TOOLS[compression];
  const program = await findProgram(tool.program).catch(() => {
    throw archiveError(`the archive is ${compression}-compressed and this host has no ${tool.program} tool: install it (apt-get install ${tool.pkg}) or decompress the archive first`);
  });
  return { compression, chunks: viaTool(program, raw) };
}

async function* gunzip(raw: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const src = Readable.from(raw);
  const gz = createGunzip();
  src.on('error', (err) => gz.destroy(err));
  src.pipe(gz);
  try {
    for await (const c of gz) yield c as Buffer;
  } catch (err) {
    if (err instanceof CorralError) throw err;
    throw archiveError(`gunzip: ${(err as Error).message}`);
  } finally {
    src.unpipe(gz);
    src.destroy();
    gz.destroy();
  }
}

async function* viaTool(program: string, raw: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* filterThrough(program, ['-dc'], raw, (m) => archiveError(`decompress with ${m}`));
  } finally {
    await raw.return(undefined);
  }
}
