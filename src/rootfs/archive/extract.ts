import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { fsError, isErrno } from '../../errors.js';
import { decompress, type Compression } from './decompress.js';
import { archiveError } from './errors.js';
import { withDefaults, type ExtractLimits } from './limits.js';
import { readTar, type TarEntry } from './tar-reader.js';
import { TreeWriter } from './tree-writer.js';

export interface ExtractOptions {
  limits?: Partial<ExtractLimits>;
  /** Neutralised entries (device nodes) and dropped attributes, one line each. */
  warn?: (message: string) => void;
}

export interface ExtractResult {
  compression: Compression;
  entries: number;
  /** File bytes written. */
  bytes: number;
}

/**
 * Every member of a (possibly compressed) tar stream, in order. `fn` must consume or ignore the
 * body before returning. Stops at the end-of-archive blocks; stopping early (an error) stops the
 * decompressor and the source.
 */
export async function forEachEntry(
  source: AsyncIterable<Buffer>,
  limits: Partial<ExtractLimits> | undefined,
  fn: (entry: TarEntry, body: AsyncIterable<Buffer>) => Promise<void>,
): Promise<Compression> {
  const { compression, chunks } = await decompress(source);
  for await (const { entry, body } of readTar(chunks, withDefaults(limits))) await fn(entry, body);
  return compression;
}

/**
 * Safe extraction of a rootfs tarball into `dest`, which must not exist: everything goes to
 * `<dest>.tmp-<rand>`, renamed to `dest` only when the whole archive was written; on any error the
 * temporary directory is removed, so a refused or broken archive leaves nothing behind.
 */
export async function extractTar(source: AsyncIterable<Buffer>, dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  return intoFresh(dest, async (tmp) => {
    const writer = new TreeWriter(tmp, opts.warn ? { warn: opts.warn } : {});
    const compression = await forEachEntry(source, opts.limits, (entry, body) => writer.write(entry, body));
    await writer.finish();
    for (const w of writer.summary()) opts.warn?.(w);
    return { compression, entries: writer.entries, bytes: writer.bytes };
  });
}

/** Run `fill` on a fresh `<dest>.tmp-<rand>` (mode 0755) and rename it to `dest` when it succeeds. */
export async function intoFresh<T>(dest: string, fill: (tmp: string) => Promise<T>): Promise<T> {
  const exists = await lstat(dest).then(() => true, (err: unknown) => {
    if (isErrno(err, 'ENOENT')) return false;
    throw fsError('stat', dest, err);
  });
  if (exists) throw archiveError(`extract into ${dest}: it already exists`);
  const tmp = `${dest}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(tmp, { mode: 0o700 }).catch((err: unknown) => {
    throw fsError('create', tmp, err);
  });
  try {
    await chmod(tmp, 0o755); // whatever the umask; the archive's "./" entry may set it

    const result = await fill(tmp);
    await rename(tmp, dest).catch((err: unknown) => {
      throw fsError('rename', `${tmp} to ${dest}`, err);
    });
    return result;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
