import { createReadStream } from 'node:fs';
import { BACKUP_MANIFEST_MEMBER, type BackupManifest } from '../api/types.js';
import { fsError, ValidationError } from '../errors.js';
import { entryComponents } from '../rootfs/archive/entry-path.js';
import { forEachEntry } from '../rootfs/archive/extract.js';
import { parseManifest } from '../runtime/backup/format.js';

/** The manifest of an earlier backup file (its last member), read locally: corrald never reads the caller's files. */
export async function readManifest(file: string): Promise<BackupManifest> {
  let manifest: BackupManifest | undefined;
  const src = createReadStream(file);
  src.on('error', () => {});
  try {
    await forEachEntry(src as AsyncIterable<Buffer>, undefined, async (entry, body) => {
      if (entryComponents(entry.name).join('/') !== BACKUP_MANIFEST_MEMBER) {
        for await (const _ of body) {
          /* skipped */
        }
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      manifest = parseManifest(Buffer.concat(chunks));
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw fsError('read', file, err);
    throw err;
  }
  if (!manifest) throw new ValidationError(`${file}: no ${BACKUP_MANIFEST_MEMBER} in it (not a complete Corral backup)`);
  return manifest;
}
