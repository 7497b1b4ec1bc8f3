import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_FORMAT, BACKUP_VERSION, type BackupHeader, type BackupRequest, type ContainerConfig } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import { SECCOMP_PROFILE_FILE } from '../../security/seccomp.js';
import type { Runtime } from '../lifecycle/context.js';
import { stateOf } from '../lifecycle/inspect.js';
import { compress } from './compress.js';
import { isBackupId } from './format.js';
import { requestFromConfig } from './request.js';
import { backupTar } from './write.js';

/** What backups and restores need of the template store (the daemon's). */
export interface TemplateAccess {
  /** The digest of a ready template, or undefined when there is none of that name. */
  digestOf(name: string): Promise<string | undefined>;
  /** Its layer directories, top first. */
  layerDirs(name: string): Promise<string[]>;
  /** Make template `name` of these layer directories (moved in); returns its digest. */
  add(name: string, layers: string[]): Promise<string>;
  remove(name: string): Promise<void>;
}

export interface BackupStream {
  backupId: string;
  compression: 'gzip' | 'zstd' | 'none';
  chunks: AsyncIterable<Buffer>;
}

/**
 * `corral backup C`: the archive as a stream. A running container is read as it runs (files it
 * writes meanwhile may be caught half-written; a snapshot or a stop first gives a consistent
 * one). A stopped container with a disk quota has its disk mounted for the read, under its lock.
 */
export async function backupContainer(rt: Runtime, templates: TemplateAccess, ref: string, req: BackupRequest): Promise<BackupStream> {
  const c = rt.resolve(ref);
  if (req.since && !isBackupId(req.since.backupId)) throw new ValidationError(`--since: ${JSON.stringify(req.since.backupId)} is not a backup id`);
  const digest = await templates.digestOf(c.template);
  if (digest === undefined) throw new ValidationError(`backup ${c.name}: its template ${c.template} is gone`);
  const layers = req.includeTemplate ? await templates.layerDirs(c.template) : [];
  const backupId = randomBytes(16).toString('hex');
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    backupId,
    kind: req.since ? 'incremental' : 'full',
    base: req.since?.backupId ?? null,
    createdAt: new Date().toISOString(),
    container: { id: c.id, name: c.name, request: requestFromConfig(c, await customProfile(rt, c)), userns: c.userns.mode },
    template: { name: c.template, digest, included: layers.length > 0, layers: layers.length },
  };
  const compression = req.compression ?? (await compress.defaultKind());
  const tar = withUpper(rt, c, (upper) =>
    backupTar({
      header,
      upper,
      ids: c.userns.mode === 'private' ? { uidBase: c.userns.uidBase, gidBase: c.userns.gidBase, size: c.userns.size } : null,
      templateLayers: layers,
      ...(req.since ? { since: { state: req.since.state } } : {}),
    }),
  );
  return { backupId, compression, chunks: compress.stream(tar, compression) };
}

/** The text of a custom seccomp profile (a restore must give it back); null otherwise. */
async function customProfile(rt: Runtime, c: ContainerConfig): Promise<string | null> {
  if (c.seccomp.profile !== 'custom') return null;
  return readFile(join(rt.store.dir(c.id), SECCOMP_PROFILE_FILE), 'utf8');
}

/**
 * Run `read` over the container's upper layer. Without a disk quota it is a directory of the
 * data root; with one it is in the disk image, mounted while the container runs, and mounted here
 * for the read otherwise (the container's lock is held until the read ends, so no start races it).
 */
export async function* withUpper(rt: Runtime, c: ContainerConfig, read: (upper: string) => AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const upper = rt.store.layout(c.id, c).upper;
  if (!c.storage) {
    yield* read(upper);
    return;
  }
  let release!: () => void;
  const held = new Promise<void>((ok) => (release = ok));
  let mounted = false;
  const locked = new Promise<void>((ok, fail) => {
    rt.locks
      .run(c.id, async () => {
        if ((await stateOf(rt, c.id)).status !== 'running') {
          const owner = c.userns.mode === 'private' ? { uid: c.userns.uidBase, gid: c.userns.gidBase } : undefined;
          await rt.disks.attach(rt.store.dir(c.id), c.storage!, owner);
          mounted = true;
        }
        ok();
        await held;
        if (mounted) await rt.disks.detach(rt.store.dir(c.id));
      })
      .catch(fail);
  });
  await locked;
  try {
    yield* read(upper);
  } finally {
    release();
  }
}
