import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupHeader, ContainerConfig, RestoreResult, VolumeSpec } from '../../api/types.js';
import { containersDir } from '../../config.js';
import { ConflictError, fsError, InvalidStateError, ValidationError } from '../../errors.js';
import type { ExtractLimits } from '../../rootfs/archive/limits.js';
import { atomicWriteJson } from '../../util/atomic-write.js';
import { newId, validateName } from '../../util/names.js';
import type { Runtime } from '../lifecycle/context.js';
import { createContainer } from '../lifecycle/create.js';
import { startContainer } from '../lifecycle/start.js';
import { stateOf } from '../lifecycle/inspect.js';
import { mergeInto } from './merge.js';
import type { TemplateAccess } from './backup.js';
import { copyTree } from './copy.js';
import { readBackup, type Destinations } from './read.js';

export interface RestoreOptions {
  name?: string;
  start?: boolean;
  limits?: Partial<ExtractLimits>;
  /** Request changes a clone makes (new name, hostname, no fixed address or host ports). */
  adjust?: (h: BackupHeader) => Record<string, unknown>;
  /**
   * Recreate the backup's bind mounts of host paths. Off by default: an archive is untrusted, and
   * one naming `-v /:/host` would hand the container the host's files (clone, of a container
   * already here, keeps them).
   */
  allowHostBinds?: boolean;
}

/** `<container dir>/restored.json`: the last backup applied, so an incremental knows its base. */
export const RESTORED_FILE = 'restored.json';

/**
 * `corral restore FILE|-`: the archive is read into a staging directory named like an
 * interrupted remove's leftovers (`containers/.trash-restore-<id>`), which corrald's start-up
 * deletes should it die meanwhile; the container is made by create (the archive's request
 * validated like any other) only once every member matched the manifest. A refused archive
 * leaves nothing: the staging directory, the id range taken for it and any template imported
 * from it are removed.
 */
export async function restoreBackup(rt: Runtime, templates: TemplateAccess, source: AsyncIterable<Buffer>, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const id = newId();
  const staging = join(containersDir(rt.deps.paths), `.trash-restore-${id}`);
  let templateName: string | undefined;
  let imported: string | null = null;
  let useLocal = false;
  let created: ContainerConfig | undefined;
  let name = '';
  try {
    const r = await readBackup(source, opts.limits, async (h): Promise<Destinations> => {
      if (h.kind !== 'full') throw new ValidationError(`backup ${h.backupId} is incremental: restore its base first and this one onto it (corral restore BASE INCR)`);
      name = validateName(opts.name ?? h.container.name);
      const vols: unknown[] = Array.isArray(h.container.request.volumes) ? h.container.request.volumes : [];
      const binds = vols.filter((v): v is VolumeSpec => typeof v === 'object' && v !== null && ((v as VolumeSpec).type ?? 'bind') === 'bind');
      if (binds.length > 0 && opts.allowHostBinds !== true) {
        throw new ValidationError(
          `restore: the backup binds host paths into the container (${binds.map((v) => `${v.source}:${v.target}`).join(', ')}); check them, then restore with --allow-host-binds`,
        );
      }
      if (rt.index.all().some((c) => c.name === name)) throw new ConflictError(`restore: a container named ${name} exists; choose another with --name`);
      const local = await templates.digestOf(h.template.name);
      useLocal = local !== undefined && local !== 'unknown' && local === h.template.digest;
      if (!useLocal && !h.template.included) {
        throw new ConflictError(
          local === undefined
            ? `restore: template ${h.template.name} is not here; back up with --include-template, or make the template first`
            : `restore: template ${h.template.name} here is ${local}, the backup's is ${h.template.digest}; back up with --include-template to carry it`,
          { template: h.template.name },
        );
      }
      await mkdir(staging, { mode: 0o700 });
      const upper = join(staging, 'upper');
      await mkdir(upper, { mode: 0o755 });
      let layers: string[] | null = null;
      if (!useLocal) {
        layers = [];
        for (let i = 0; i < h.template.layers; i++) {
          const d = join(staging, `template-${i}`);
          await mkdir(d, { mode: 0o755 });
          layers.push(d);
        }
      }
      const ids = h.container.userns === 'private' ? await rt.idmap.allocate(id) : null;
      return { upper, ids: ids && { uidBase: ids.uidBase, gidBase: ids.gidBase, size: ids.size }, templateLayers: layers };
    });
    const h = r.header;
    templateName = h.template.name;
    if (!useLocal) {
      const placed = await importTemplate(templates, h, Array.from({ length: h.template.layers }, (_, i) => join(staging, `template-${i}`)));
      templateName = placed.name;
      imported = placed.imported ? placed.name : null;
    }
    const request = { ...h.container.request, name, template: templateName, ...(opts.adjust?.(h) ?? {}) };
    created = await createContainer(rt, request, { id, fill: (c) => installUpper(rt, c, join(staging, 'upper')) });
    await atomicWriteJson(join(rt.store.dir(id), RESTORED_FILE), { backupId: h.backupId, kind: h.kind, at: new Date().toISOString() });
    await rm(staging, { recursive: true, force: true });
    let started = false;
    if (opts.start) {
      await startContainer(rt, id);
      started = true;
    }
    rt.log.info('container restored', { id, name, backupId: h.backupId });
    return { id, name, backupId: h.backupId, kind: h.kind, templateImported: imported, started, entries: r.entries, bytes: r.bytes, warnings: [...r.warnings, ...r.manifest.warnings] };
  } catch (err) {
    if (created) throw err; // made, and only the start failed: it stays, stopped
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    await rt.idmap.release(id).catch(() => {});
    if (imported) await templates.remove(imported).catch(() => {});
    throw err;
  }
}

/** Import the archive's template; a name taken by another template gets the digest as suffix. */
async function importTemplate(templates: TemplateAccess, h: BackupHeader, layers: string[]): Promise<{ name: string; imported: boolean }> {
  let name = h.template.name;
  const there = await templates.digestOf(name);
  if (there !== undefined) {
    name = `${h.template.name}-${h.template.digest.replace(/^sha256:/, '').slice(0, 12)}`;
    const again = await templates.digestOf(name);
    if (again === h.template.digest) return { name, imported: false };
    if (again !== undefined) throw new ConflictError(`restore: templates ${h.template.name} and ${name} exist and neither is the backup's (${h.template.digest})`);
  }
  const digest = await templates.add(name, layers);
  if (digest !== h.template.digest) {
    await templates.remove(name).catch(() => {});
    throw new ValidationError(`restore: the template carried in the backup digests to ${digest}, the header says ${h.template.digest}; refused`);
  }
  return { name, imported: true };
}

/** Put the staged layer in place: renamed over the empty upper, or copied into the container's disk. */
export async function installUpper(rt: Runtime, c: ContainerConfig, staged: string): Promise<void> {
  const dir = rt.store.dir(c.id);
  const upper = rt.store.layout(c.id, c).upper;
  if (!c.storage) {
    await rm(upper, { recursive: true, force: true });
    await rename(staged, upper).catch((err: unknown) => {
      throw fsError('rename', `${staged} to ${upper}`, err);
    });
    return;
  }
  const owner = c.userns.mode === 'private' ? { uid: c.userns.uidBase, gid: c.userns.gidBase } : undefined;
  await rt.disks.attach(dir, c.storage, owner);
  try {
    await copyTree(staged, upper);
  } finally {
    await rt.disks.detach(dir);
  }
}

/**
 * `restore INCR --onto C` (the CLI's `restore BASE INCR`): an incremental applies onto the
 * stopped container restored from its base (its `restored.json` names the backup). It is read
 * and verified in a staging directory first; only then is it merged into the layer, so a refused
 * archive leaves the container as it was.
 */
export async function restoreIncremental(rt: Runtime, templates: TemplateAccess, source: AsyncIterable<Buffer>, onto: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const c = rt.resolve(onto);
  const staging = join(containersDir(rt.deps.paths), `.trash-restore-${newId()}`);
  try {
    const r = await readBackup(source, opts.limits, async (h): Promise<Destinations> => {
      if (h.kind !== 'incremental') throw new ValidationError(`backup ${h.backupId} is a full backup: restore it as a container of its own`);
      const applied = await readRestored(rt, c.id);
      if (applied !== h.base) throw new ConflictError(`restore: backup ${h.backupId} applies on backup ${h.base}; ${c.name} was restored from ${applied ?? 'no backup'}`);
      if ((await stateOf(rt, c.id)).status === 'running') throw new InvalidStateError(`restore onto ${c.name}: it is running; stop it first`);
      const local = await templates.digestOf(c.template);
      if (local !== h.template.digest && c.template === h.template.name) throw new ConflictError(`restore: template ${c.template} here is ${local}, the backup's is ${h.template.digest}`);
      await mkdir(staging, { mode: 0o700 });
      await mkdir(join(staging, 'upper'), { mode: 0o755 });
      const ids = c.userns.mode === 'private' ? { uidBase: c.userns.uidBase, gidBase: c.userns.gidBase, size: c.userns.size } : null;
      return { upper: join(staging, 'upper'), ids, templateLayers: null };
    });
    const h = r.header;
    await rt.locks.run(c.id, async () => {
      if ((await stateOf(rt, c.id)).status === 'running') throw new InvalidStateError(`restore onto ${c.name}: it was started meanwhile`);
      await onLayer(rt, c, (upper) => mergeInto(join(staging, 'upper'), upper, r.manifest.deletions));
      await atomicWriteJson(join(rt.store.dir(c.id), RESTORED_FILE), { backupId: h.backupId, kind: h.kind, at: new Date().toISOString() });
    });
    let started = false;
    if (opts.start) {
      await startContainer(rt, c.id);
      started = true;
    }
    return { id: c.id, name: c.name, backupId: h.backupId, kind: h.kind, templateImported: null, started, entries: r.entries, bytes: r.bytes, warnings: [...r.warnings, ...r.manifest.warnings] };
  } finally {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
  }
}

async function readRestored(rt: Runtime, id: string): Promise<string | undefined> {
  try {
    const v = JSON.parse(await readFile(join(rt.store.dir(id), RESTORED_FILE), 'utf8')) as { backupId?: unknown };
    return typeof v.backupId === 'string' ? v.backupId : undefined;
  } catch {
    return undefined;
  }
}

/** Run `fn` on a stopped container's upper layer (its disk mounted for it when it has one). */
export async function onLayer(rt: Runtime, c: ContainerConfig, fn: (upper: string) => Promise<void>): Promise<void> {
  const upper = rt.store.layout(c.id, c).upper;
  if (!c.storage) return fn(upper);
  const dir = rt.store.dir(c.id);
  await rt.disks.attach(dir, c.storage, c.userns.mode === 'private' ? { uid: c.userns.uidBase, gid: c.userns.gidBase } : undefined);
  try {
    await fn(upper);
  } finally {
    await rt.disks.detach(dir);
  }
}
