import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, SnapshotCreateResult, SnapshotInfo } from '../../api/types.js';
import { ConflictError, fsError, isErrno, NotFoundError } from '../../errors.js';
import { atomicWriteJson } from '../../util/atomic-write.js';
import { validateName } from '../../util/names.js';
import type { Runtime } from '../lifecycle/context.js';
import { stateOf } from '../lifecycle/inspect.js';
import { startContainer } from '../lifecycle/start.js';
import { stopContainer } from '../lifecycle/stop.js';
import { copyTree } from './copy.js';
import { onLayer } from './restore.js';

/**
 * Snapshots of a container's writable layer, kept in `<container dir>/snapshots/<name>/` (an
 * `upper/` copy and `snapshot.json`), removed with the container. Copies are `cp -a
 * --reflink=auto`: constant-time on filesystems that share extents, a plain copy elsewhere. A
 * running container is frozen (the freezer cgroup) for the copy, so the snapshot is one instant
 * of its files, and the time it was frozen is reported.
 */
const SNAPSHOTS = 'snapshots';

function snapshotsDir(rt: Runtime, id: string): string {
  return join(rt.store.dir(id), SNAPSHOTS);
}

export async function createSnapshot(rt: Runtime, ref: string, name?: string): Promise<SnapshotCreateResult> {
  const c = rt.resolve(ref);
  const snap = validateName(name ?? `snap-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`, 'snapshot name');
  return rt.locks.run(c.id, async () => {
    const dir = join(snapshotsDir(rt, c.id), snap);
    if (await exists(dir)) throw new ConflictError(`snapshot ${snap} of ${c.name} exists: remove it first (corral snapshot rm ${c.name} ${snap})`);
    await mkdir(snapshotsDir(rt, c.id), { recursive: true, mode: 0o700 });
    const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
    await mkdir(join(tmp, 'upper'), { recursive: true, mode: 0o700 });
    try {
      let frozenMs = 0;
      if ((await stateOf(rt, c.id)).status === 'running') {
        // A container the user paused stays paused; one frozen here is thawed after the copy.
        const wasFrozen = await rt.deps.cgroups.frozen(c.id).catch(() => false);
        const t0 = performance.now();
        if (!wasFrozen) await rt.deps.cgroups.freeze(c.id);
        try {
          await copyTree(rt.store.layout(c.id, c).upper, join(tmp, 'upper'));
        } finally {
          if (!wasFrozen) await rt.deps.cgroups.thaw(c.id);
          frozenMs = Math.round(performance.now() - t0);
        }
      } else {
        await onLayer(rt, c, (upper) => copyTree(upper, join(tmp, 'upper')));
      }
      const info: SnapshotInfo = { name: snap, createdAt: new Date().toISOString(), frozenMs, sizeBytes: await treeBytes(join(tmp, 'upper')) };
      await atomicWriteJson(join(tmp, 'snapshot.json'), info);
      await rename(tmp, dir).catch((err: unknown) => {
        throw fsError('rename', `${tmp} to ${dir}`, err);
      });
      rt.log.info('snapshot created', { id: c.id, name: c.name, snapshot: snap, frozenMs });
      return { container: c.name, ...info };
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  });
}

export async function listSnapshots(rt: Runtime, ref: string): Promise<SnapshotInfo[]> {
  const c = rt.resolve(ref);
  let names: string[];
  try {
    names = await readdir(snapshotsDir(rt, c.id));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw fsError('list', snapshotsDir(rt, c.id), err);
  }
  const out: SnapshotInfo[] = [];
  for (const n of names.filter((x) => !x.includes('.tmp-'))) {
    const info = await readInfo(rt, c, n).catch(() => undefined);
    if (info) out.push(info);
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Roll the layer back to the snapshot: a running container is stopped first and started again after. */
export async function restoreSnapshot(rt: Runtime, ref: string, name: string): Promise<{ restarted: boolean }> {
  const c = rt.resolve(ref);
  const src = join(snapshotsDir(rt, c.id), validateName(name, 'snapshot name'), 'upper');
  await readInfo(rt, c, name);
  const running = (await stateOf(rt, c.id)).status === 'running';
  if (running) await stopContainer(rt, c.id, 10);
  await rt.locks.run(c.id, async () => {
    await onLayer(rt, c, async (upper) => {
      // Copied beside the layer (same filesystem), then swapped in by two renames.
      const next = `${upper}.snapshot-${randomBytes(6).toString('hex')}`;
      const old = `${upper}.old-${randomBytes(6).toString('hex')}`;
      await mkdir(next, { mode: 0o755 });
      try {
        await copyTree(src, next);
        await rename(upper, old);
        await rename(next, upper);
      } catch (err) {
        await rm(next, { recursive: true, force: true });
        throw err;
      }
      await rm(old, { recursive: true, force: true });
    });
  });
  rt.log.info('snapshot restored', { id: c.id, name: c.name, snapshot: name });
  if (running) await startContainer(rt, c.id);
  return { restarted: running };
}

export async function removeSnapshot(rt: Runtime, ref: string, name: string): Promise<void> {
  const c = rt.resolve(ref);
  await readInfo(rt, c, name);
  await rt.locks.run(c.id, () => rm(join(snapshotsDir(rt, c.id), name), { recursive: true, force: true }));
}

async function readInfo(rt: Runtime, c: ContainerConfig, name: string): Promise<SnapshotInfo> {
  validateName(name, 'snapshot name');
  const file = join(snapshotsDir(rt, c.id), name, 'snapshot.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SnapshotInfo;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new NotFoundError(`no snapshot ${name} of ${c.name} (corral snapshot ls ${c.name})`);
    throw fsError('read', file, err);
  }
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(() => true, () => false);
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await treeBytes(p) : (await lstat(p)).size;
  }
  return total;
}

