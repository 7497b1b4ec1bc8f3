import type { TemplateInfo } from '../api/types.js';
import type { Containers } from '../runtime/containers.js';
import { sendJson } from './http.js';
import type { Router } from './router.js';

/** Routes of Docker's everyday verbs that Corral took on (rename, pause, top, port, diff, prune, df). */
export function registerDockerVerbRoutes(r: Router, c: Containers, templates: { list(): Promise<TemplateInfo[]> }): void {
  r.on('POST', '/v1/containers/prune', async (_ctx, res) => sendJson(res, 200, await c.prune()));
  r.on('GET', '/v1/system/df', async (_ctx, res) => sendJson(res, 200, await c.diskUsage(await templates.list())));
  r.on('POST', '/v1/containers/:ref/rename', async (ctx, res) => {
    const renamed = await c.rename(ctx.params.ref!, ctx.query.get('name') ?? '');
    sendJson(res, 200, { id: renamed.id, name: renamed.name });
  });
  // ps options as Docker's API takes them: one string, split on spaces.
  r.on('GET', '/v1/containers/:ref/top', async (ctx, res) => {
    const psArgs = (ctx.query.get('ps_args') ?? '').split(' ').filter(Boolean);
    sendJson(res, 200, await c.top(ctx.params.ref!, psArgs));
  });
  r.on('GET', '/v1/containers/:ref/changes', async (ctx, res) => sendJson(res, 200, await c.diff(ctx.params.ref!)));
  r.on('POST', '/v1/containers/:ref/pause', async (ctx, res) => {
    await c.pause(ctx.params.ref!);
    res.writeHead(204).end();
  });
  r.on('POST', '/v1/containers/:ref/unpause', async (ctx, res) => {
    await c.unpause(ctx.params.ref!);
    res.writeHead(204).end();
  });
}
