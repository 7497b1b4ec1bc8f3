import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupRequest, CloneRequest } from '../api/types.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { EMPTY_DEFAULTS } from '../rootfs/record.js';
import type { TemplateStore } from '../rootfs/templates.js';
import { backupContainer, type TemplateAccess } from '../runtime/backup/backup.js';
import { restoreBackup, restoreIncremental } from '../runtime/backup/restore.js';
import { createSnapshot, listSnapshots, removeSnapshot, restoreSnapshot } from '../runtime/backup/snapshot.js';
import { cloneContainer } from '../runtime/backup/clone.js';
import type { Containers } from '../runtime/containers.js';
import { importLimits } from './routes-templates-import.js';
import { queryBool, readJson, sendJson, withRequestBody } from './http.js';
import type { Router } from './router.js';

/** A `--since` state lists every path of the layer: larger than other request bodies. */
const MAX_BACKUP_REQUEST = 1024 * 1024 * 1024;

/** The template store as backups and restores use it. */
export function templateAccess(store: TemplateStore): TemplateAccess {
  return {
    async digestOf(name) {
      try {
        return (await store.record(name)).digest;
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    async layerDirs(name) {
      return store.layerDirs(await store.record(name));
    },
    async add(name, layers) {
      const record = await store.add(name, {
        label: 'backup restore',
        produce: async (ctx) => {
          await mkdir(join(ctx.dir, 'layers'), { recursive: true });
          for (const [i, dir] of layers.entries()) await rename(dir, join(ctx.dir, 'layers', String(i)));
          return {
            layers: layers.map((_, i) => ({ own: String(i) })),
            defaults: { ...EMPTY_DEFAULTS, command: ['sh'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
            description: 'restored from a backup',
            source: { kind: 'archive', format: 'corral-backup', file: '-', digest: '' },
            parent: null,
          };
        },
      });
      return record.digest;
    },
    remove: (name) => store.remove(name),
  };
}

/** Backups, restores (docs/backup.md). */
export function registerBackupRoutes(r: Router, c: Containers, store: TemplateStore, env: NodeJS.ProcessEnv = process.env): void {
  const templates = templateAccess(store);
  const limits = importLimits(env);
  r.on('POST', '/v1/containers/:ref/backup', async (ctx, res) => {
    const req = backupRequest(await readJson(ctx.req, MAX_BACKUP_REQUEST));
    const b = await backupContainer(c.runtime, templates, ctx.params.ref!, req);
    await sendStream(res, b.chunks, { 'content-type': 'application/octet-stream', 'x-corral-backup-id': b.backupId, 'x-corral-compression': b.compression });
  });
  r.on('POST', '/v1/restore', async (ctx, res) => {
    const name = ctx.query.get('name') || undefined;
    const start = queryBool(ctx.query.get('start'));
    const onto = ctx.query.get('onto') || undefined;
    const allowHostBinds = queryBool(ctx.query.get('allowHostBinds'));
    const result = await withRequestBody(ctx.req, (body) =>
      onto ? restoreIncremental(c.runtime, templates, body, onto, { limits, start }) : restoreBackup(c.runtime, templates, body, { limits, start, allowHostBinds, ...(name ? { name } : {}) }),
    );
    sendJson(res, 201, result);
  });
}

export function registerSnapshotRoutes(r: Router, c: Containers, store: TemplateStore): void {
  const templates = templateAccess(store);
  r.on('GET', '/v1/containers/:ref/snapshots', async (ctx, res) => sendJson(res, 200, await listSnapshots(c.runtime, ctx.params.ref!)));
  r.on('POST', '/v1/containers/:ref/snapshots', async (ctx, res) => {
    const body = ((await readJson(ctx.req)) ?? {}) as { name?: unknown };
    if (body.name !== undefined && typeof body.name !== 'string') throw new ValidationError('snapshot: name must be a string');
    sendJson(res, 201, await createSnapshot(c.runtime, ctx.params.ref!, body.name as string | undefined));
  });
  r.on('POST', '/v1/containers/:ref/snapshots/:name/restore', async (ctx, res) => sendJson(res, 200, await restoreSnapshot(c.runtime, ctx.params.ref!, ctx.params.name!)));
  r.on('DELETE', '/v1/containers/:ref/snapshots/:name', async (ctx, res) => {
    await removeSnapshot(c.runtime, ctx.params.ref!, ctx.params.name!);
    res.writeHead(204).end();
  });
  r.on('POST', '/v1/containers/:ref/clone', async (ctx, res) => {
    const body = (await readJson(ctx.req)) as CloneRequest | undefined;
    if (typeof body?.name !== 'string') throw new ValidationError('clone: body needs "name"');
    sendJson(res, 201, await cloneContainer(c.runtime, templates, ctx.params.ref!, body));
  });
}

function backupRequest(raw: unknown): BackupRequest {
  const b = (raw ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw new ValidationError('backup: expected a JSON object');
  for (const k of Object.keys(b)) if (!['includeTemplate', 'compression', 'since'].includes(k)) throw new ValidationError(`backup: unknown field ${JSON.stringify(k)}`);
  if (b.includeTemplate !== undefined && typeof b.includeTemplate !== 'boolean') throw new ValidationError('backup: includeTemplate must be true or false');
  if (b.compression !== undefined && !['gzip', 'zstd', 'none'].includes(b.compression as string)) throw new ValidationError('backup --compression: gzip, zstd or none');
  const out: BackupRequest = {};
  if (b.includeTemplate !== undefined) out.includeTemplate = b.includeTemplate as boolean;
  if (b.compression !== undefined) out.compression = b.compression as BackupRequest['compression'] & string;
  if (b.since !== undefined) {
    const s = b.since as Record<string, unknown>;
    if (typeof s !== 'object' || s === null || typeof s.backupId !== 'string' || typeof s.state !== 'object' || s.state === null) throw new ValidationError('backup --since: expected the previous backup\'s id and state');
    for (const v of Object.values(s.state)) if (typeof v !== 'string') throw new ValidationError('backup --since: state values must be strings');
    out.since = { backupId: s.backupId, state: s.state as Record<string, string> };
  }
  return out;
}

/** A body as it is made; a failure before the first byte is an HTTP error, after it the connection is cut (the client sees a truncated stream). */
async function sendStream(res: ServerResponse, chunks: AsyncIterable<Buffer>, headers: Record<string, string>): Promise<void> {
  let closed = false;
  res.on('close', () => void (closed = true));
  const it = chunks[Symbol.asyncIterator]();
  let started = false;
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      if (closed) break;
      if (!started) {
        res.writeHead(200, headers);
        started = true;
      }
      if (!res.write(r.value)) await new Promise<void>((ok) => { res.once('drain', ok); res.once('close', ok); });
    }
  } catch (err) {
    if (!started) throw err;
    res.destroy(err as Error);
    return;
  } finally {
    await it.return?.();
  }
  if (!started) res.writeHead(200, headers);
  res.end();
}


