import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, basename, join } from 'node:path';
import { fsError } from '../errors.js';

/**
 * Write a file so readers see the old or the new content, never a torn one: temp file in the same
 * directory, fsync, rename (runc saveState, crun status.c).
 */
export async function atomicWrite(path: string, data: string | Uint8Array, mode = 0o600, durable = true): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'wx', mode);
    await fh.writeFile(data);
    // A cache of kernel state need not survive a power loss (the state it describes does not).
    if (durable) await fh.sync();
  } catch (err) {
    await fh?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw fsError('write', path, err);
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw fsError('rename', path, err);
  }
}

export async function atomicWriteJson(path: string, value: unknown, mode = 0o600, durable = true): Promise<void> {
  await atomicWrite(path, JSON.stringify(value, null, 2) + '\n', mode, durable);
}
