import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { VersionInfo } from '../api/types.js';
import type { CorralPaths } from '../config.js';
import type { Containers } from '../runtime/containers.js';
import type { Logger } from '../util/logger.js';
import { followLog, readLog, type LogRecord } from '../runtime/logs/index.js';
import type { ExecSessions } from './exec-sessions.js';
import { acceptUpgrade, queryBool, queryInt, readJson, rejectUpgrade, sendJson } from './http.js';
import { Router } from './router.js';
import { parseSignal } from './signals.js';
import type { TemplateStore } from '../rootfs/templates.js';
import { templateRoutes } from './templates.js';
import { CorralError, ValidationError } from '../errors.js';
import { EVENT_TYPES, type EventJournal, type EventQuery } from './events.js';
import { parseTimeArg } from '../util/time.js';
import { StoreTarget } from '../rootfs/archive/store-target.js';
import { registerTemplateImportRoutes } from './routes-templates-import.js';
import { registerDockerVerbRoutes } from './routes-docker-verbs.js';
import { registerCopyRoutes } from './routes-copy.js';
import { registerVolumeRoutes } from './routes-volumes.js';
import { registerBackupRoutes, registerSnapshotRoutes } from './routes-backup.js';

export const VERSION = '0.1.0';
export const API_VERSION = 'v1';

export interface RouteDeps {
  paths: CorralPaths;
  containers: Containers;
  exec: ExecSessions;
  templates: TemplateStore;
  log: Logger;
  events: EventJournal;
  /** `--default-userns`, reported by GET /v1/version (default private). */
  defaultUserns?: 'private' | 'host';
}

/** Every route of docs/api.md; handlers are thin: parse, call the runtime, answer. */
export function buildRouter(d: RouteDeps): Router {
  const r = new Router();
  const c = d.containers;
  // Absent: the container's --stop-timeout, else 10 s.
  const timeout = (q: URLSearchParams): number | undefined => queryInt(q.get('timeout') ?? q.get('t'), 'timeout', 0, 86_400);

  r.on('GET', '/v1/version', async (_ctx, res) => {
    const v: VersionInfo = {
      version: VERSION,
      apiVersion: API_VERSION,
      pid: process.pid,
      dataRoot: d.paths.dataRoot,
      runRoot: d.paths.runRoot,
      cgroupDriver: c.cgroupDriver,
      cgroupParent: d.paths.cgroupParent,
      bridgePrefix: d.paths.bridgePrefix,
      defaultUserns: d.defaultUserns ?? 'private',
    };
    sendJson(res, 200, v);
  });
  r.on('GET', '/v1/events', async (ctx, res) => {
    const q = ctx.query;
    const query: EventQuery = {
      ...(q.get('since') ? { since: parseTimeArg(q.get('since')!, 'since') } : {}),
      ...(q.get('until') ? { until: parseTimeArg(q.get('until')!, 'until') } : {}),
      container: q.getAll('container'),
      type: q.getAll('type'),
    };
    for (const t of query.type ?? []) if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new ValidationError(`type=${t}: expected one of ${EVENT_TYPES.join(', ')}`);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (const e of d.events.query(query)) res.write(JSON.stringify(e) + '\n');
    const follow = queryBool(q.get('follow')) && (query.until === undefined || query.until > Date.now());
    if (!follow) return void res.end();
    await new Promise<void>((resolve) => {
      const unsubscribe = d.events.subscribe(query, (e) => res.write(JSON.stringify(e) + '\n'));
      const stop = (): void => {
        unsubscribe();
        clearTimeout(timer);
        resolve();
      };
      const timer = query.until !== undefined ? setTimeout(stop, query.until - Date.now()) : undefined;
      res.on('close', stop);
    });
    res.end();
  });
  templateRoutes(r, { paths: d.paths, templates: d.templates, containers: c, log: d.log });
  registerTemplateImportRoutes(r, new StoreTarget(d.paths, d.templates));
  r.on('GET', '/v1/containers', async (ctx, res) => sendJson(res, 200, await c.list(queryBool(ctx.query.get('all')))));
  r.on('POST', '/v1/containers', async (ctx, res) => {
    const config = await c.create(await readJson(ctx.req));
    sendJson(res, 201, { id: config.id, name: config.name, warnings: c.createWarnings(config) });
  });
  const networks = () => {
    if (!c.net) throw new CorralError('unavailable', 'networking is not available in this corrald');
    return c.net;
  };
  r.on('GET', '/v1/networks', async (_ctx, res) => sendJson(res, 200, await networks().listNetworks()));
  r.on('POST', '/v1/networks', async (ctx, res) => sendJson(res, 201, await networks().createNetwork(await readJson(ctx.req))));
  r.on('GET', '/v1/networks/:name', async (ctx, res) => sendJson(res, 200, await networks().inspectNetwork(ctx.params.name!)));
  r.on('DELETE', '/v1/networks/:name', async (ctx, res) => {
    await networks().removeNetwork(ctx.params.name!);
    res.writeHead(204).end();
  });
  r.on('GET', '/v1/containers/:ref', async (ctx, res) => sendJson(res, 200, await c.inspect(ctx.params.ref!)));
  r.on('DELETE', '/v1/containers/:ref', async (ctx, res) => {
    await c.remove(ctx.params.ref!, queryBool(ctx.query.get('force')));
    res.writeHead(204).end();
  });
  r.on('POST', '/v1/containers/:ref/start', async (ctx, res) => {
    await c.start(ctx.params.ref!);
    res.writeHead(204).end();
  });
  r.on('POST', '/v1/containers/:ref/stop', async (ctx, res) => {
    await c.stop(ctx.params.ref!, timeout(ctx.query));
    res.writeHead(204).end();
  });
  r.on('POST', '/v1/containers/:ref/restart', async (ctx, res) => {
    await c.restart(ctx.params.ref!, timeout(ctx.query));
    res.writeHead(204).end();
  });
  r.on('POST', '/v1/containers/:ref/kill', async (ctx, res) => {
    await c.kill(ctx.params.ref!, parseSignal(ctx.query.get('signal') ?? 'SIGKILL'));
    res.writeHead(204).end();
  });
  r.on('POST', '/v1/containers/:ref/wait', async (ctx, res) => {
    const s = await c.wait(ctx.params.ref!);
    sendJson(res, 200, { exitCode: s.exitCode, signal: s.signal, error: s.error });
  });
  r.on('GET', '/v1/containers/:ref/logs', async (ctx, res) => {
    const cfg = c.resolve(ctx.params.ref!);
    const tail = queryInt(ctx.query.get('tail'), 'tail', 0, Number.MAX_SAFE_INTEGER);
    const path = c.store.file(cfg.id, 'container.log');
    // --since/--until (Docker's): records outside [since, until] are skipped (after --tail, as Docker).
    const since = ctx.query.get('since') ? parseTimeArg(ctx.query.get('since')!, 'since') : undefined;
    const until = ctx.query.get('until') ? parseTimeArg(ctx.query.get('until')!, 'until') : undefined;
    const inRange = (rec: LogRecord): boolean => {
      if (since === undefined && until === undefined) return true;
      const t = Date.parse(rec.time);
      return (since === undefined || t >= since) && (until === undefined || t <= until);
    };
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    // Streamed with back-pressure: a log may be far larger than memory.
    const send = async (rec: LogRecord): Promise<void> => {
      if (!inRange(rec)) return;
      if (abort.signal.aborted || res.write(JSON.stringify(rec) + '\n')) return;
      await new Promise<void>((ok) => {
        const go = (): void => {
          res.off('drain', go).off('close', go);
          ok();
        };
        res.on('drain', go).on('close', go);
      });
    };
    let headed = false;
    const head = (): void => {
      if (!headed) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      headed = true;
    };
    const cursor = await readLog(path, tail, (rec) => (head(), send(rec)), abort.signal);
    head();
    if (!queryBool(ctx.query.get('follow')) || (until !== undefined && until <= Date.now())) return void res.end();
    // Following with --until ends when that time comes.
    const stopAt = until !== undefined ? setTimeout(() => abort.abort(), until - Date.now()) : undefined;
    res.on('close', () => clearTimeout(stopAt));
    const done = async (): Promise<boolean> => {
      try {
        return (await c.state(cfg.id)).status !== 'running';
      } catch {
        return true;
      }
    };
    for await (const rec of followLog(path, cursor, done, abort.signal)) await send(rec);
    clearTimeout(stopAt);
    res.end();
  });
  r.on('POST', '/v1/containers/:ref/update', async (ctx, res) => {
    sendJson(res, 200, await c.update(ctx.params.ref!, await readJson(ctx.req)));
  });
  registerDockerVerbRoutes(r, c, d.templates);
  registerCopyRoutes(r, c);
  registerVolumeRoutes(r, c.volumes);
  registerBackupRoutes(r, c, d.templates);
  registerSnapshotRoutes(r, c, d.templates);
  r.on('GET', '/v1/containers/:ref/stats', async (ctx, res) => sendJson(res, 200, await c.stats(ctx.params.ref!)));
  r.on('POST', '/v1/containers/:ref/exec', async (ctx, res) => {
    sendJson(res, 201, { id: await d.exec.create(ctx.params.ref!, await readJson(ctx.req)) });
  });

  r.upgrade('POST', '/v1/containers/:ref/start', async (ctx, socket, head) => {
    const cfg = c.resolve(ctx.params.ref!);
    let attached = false;
    try {
      await c.start(cfg.id, {
        attach: async (path) => {
          await bridge(path, socket, head, () => c.waitSettled(cfg.id));
          attached = true;
        },
      });
    } catch (err) {
      if (!attached) throw err;
      d.log.info('start failed after attach', { id: cfg.id, err: String(err) });
    }
  });
  r.upgrade('POST', '/v1/containers/:ref/attach', async (ctx, socket, head) => {
    const cfg = c.resolve(ctx.params.ref!);
    await c.assertAttachable(cfg.id);
    await bridge(c.attachSocket(cfg.id), socket, head, () => c.waitSettled(cfg.id));
  });
  r.upgrade('POST', '/v1/exec/:id/start', async (ctx, socket, head) => {
    if (!/^[0-9a-f]{32}$/.test(ctx.params.id!)) throw new ValidationError(`invalid exec session id ${JSON.stringify(ctx.params.id)}`);
    await d.exec.start(ctx.params.id!, socket, head);
  });
  return r;
}

/**
 * Join a client's upgraded connection to a monitor's attach socket. When the monitor closes
 * (the container exited), wait until corrald has handled the exit (--rm removal included) before
 * closing the client, so `corral run --rm` returns only once the container is gone.
 */
function bridge(path: string, client: Duplex, head: Buffer, settled: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const mon = connect(path);
    mon.once('error', (err) => reject(new ValidationError(`attach ${path}: ${err.message}`)));
    mon.once('connect', () => {
      mon.removeAllListeners('error');
      mon.on('error', () => client.destroy());
      acceptUpgrade(client);
      if (head.length > 0) mon.write(head);
      client.pipe(mon);
      mon.pipe(client, { end: false });
      client.on('error', () => mon.destroy());
      client.on('close', () => mon.destroy());
      mon.on('end', () => {
        void settled().finally(() => client.end());
      });
      resolve();
    });
  });
}

export { rejectUpgrade };
