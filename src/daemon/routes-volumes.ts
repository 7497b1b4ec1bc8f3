import type { Volumes } from '../runtime/volumes.js';
import type { VolumeCreateRequest } from '../api/types.js';
import { ValidationError } from '../errors.js';
import { readJson, sendJson } from './http.js';
import type { Router } from './router.js';

/** `corral volume`: GET/POST /v1/volumes, GET/DELETE /v1/volumes/:name, POST /v1/volumes/prune. */
export function registerVolumeRoutes(r: Router, volumes: Volumes): void {
  r.on('GET', '/v1/volumes', async (_ctx, res) => sendJson(res, 200, await volumes.list()));
  r.on('POST', '/v1/volumes', async (ctx, res) => {
    const body = (await readJson(ctx.req)) ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('volume create: expected a JSON object');
    const { name, labels, ...rest } = body as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new ValidationError(`unknown field ${JSON.stringify(Object.keys(rest)[0])} in volume create request`);
    if (name !== undefined && typeof name !== 'string') throw new ValidationError('volume create: name must be a string');
    if (labels !== undefined && (typeof labels !== 'object' || labels === null || Array.isArray(labels))) throw new ValidationError('volume create: labels must be an object');
    sendJson(res, 201, await volumes.create({ ...(name !== undefined ? { name } : {}), ...(labels !== undefined ? { labels: labels as VolumeCreateRequest['labels'] } : {}) }));
  });
  r.on('POST', '/v1/volumes/prune', async (_ctx, res) => sendJson(res, 200, await volumes.prune()));
  r.on('GET', '/v1/volumes/:name', async (ctx, res) => sendJson(res, 200, await volumes.inspect(ctx.params.name!)));
  r.on('DELETE', '/v1/volumes/:name', async (ctx, res) => {
    await volumes.remove(ctx.params.name!);
    res.writeHead(204).end();
  });
}
