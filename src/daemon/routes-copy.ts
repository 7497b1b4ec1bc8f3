import type { Containers } from '../runtime/containers.js';
import { ValidationError } from '../errors.js';
import { queryBool, sendJson, withRequestBody } from './http.js';
import { importLimits } from './routes-templates-import.js';
import type { Router } from './router.js';

/**
 * `corral cp` (Docker's archive API): GET …/archive?path=P streams P as a tar (its stat in the
 * X-Corral-Path-Stat header, base64 JSON), PUT …/archive?path=DIR[&archive=true] writes the tar
 * body into the directory DIR, GET …/archive/stat?path=P answers the stat alone.
 */
export function registerCopyRoutes(r: Router, c: Containers, env: NodeJS.ProcessEnv = process.env): void {
  const limits = importLimits(env);
  const pathOf = (q: URLSearchParams): string => {
    const p = q.get('path');
    if (!p) throw new ValidationError('cp: a path in the container is required (?path=P)');
    return p;
  };
  r.on('GET', '/v1/containers/:ref/archive/stat', async (ctx, res) => sendJson(res, 200, await c.statPath(ctx.params.ref!, pathOf(ctx.query))));
  r.on('GET', '/v1/containers/:ref/archive', async (ctx, res) => {
    const out = await c.copyOut(ctx.params.ref!, pathOf(ctx.query));
    try {
      res.writeHead(200, { 'content-type': 'application/x-tar', 'x-corral-path-stat': Buffer.from(JSON.stringify(out.stat)).toString('base64') });
      for await (const chunk of out.body) {
        if (!res.write(chunk)) await new Promise<void>((resolve) => (res.writableNeedDrain && !res.destroyed ? res.once('drain', resolve).once('close', resolve) : resolve()));
        if (res.destroyed) break;
      }
      res.end();
    } catch (err) {
      // Headers are out: a broken stream is all the client can be told.
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    } finally {
      await out.body.return(undefined);
      out.release();
    }
  });
  r.on('PUT', '/v1/containers/:ref/archive', async (ctx, res) => {
    sendJson(res, 200, await withRequestBody(ctx.req, (body) => c.copyIn(ctx.params.ref!, pathOf(ctx.query), body, { archive: queryBool(ctx.query.get('archive')), limits })));
  });
}
