import { ValidationError } from '../errors.js';
import { importRootfs, loadImage, type ImportResult } from '../rootfs/archive/import.js';
import type { ExtractLimits } from '../rootfs/archive/limits.js';
import type { TemplateTarget } from '../rootfs/archive/target.js';
import { sendJson, withRequestBody } from './http.js';
import type { Router } from './router.js';

/**
 * POST /v1/templates/import?name=NAME and POST /v1/templates/load[?name=NAME]: the body is the
 * archive itself (any content type, chunked or not), streamed into the extractor, never buffered.
 * Budgets: CORRAL_IMPORT_MAX_BYTES and CORRAL_IMPORT_MAX_ENTRIES in corrald's environment.
 */
export function registerTemplateImportRoutes(r: Router, target: TemplateTarget, env: NodeJS.ProcessEnv = process.env): void {
  const limits = importLimits(env);
  r.on('POST', '/v1/templates/import', async (ctx, res) => {
    const name = ctx.query.get('name');
    if (!name) throw new ValidationError('template import: a name is required (?name=NAME)');
    sendJson(res, 201, await withRequestBody(ctx.req, (body) => importRootfs(target, name, body, { limits })));
  });
  r.on('POST', '/v1/templates/load', async (ctx, res) => {
    const name = ctx.query.get('name') || undefined;
    sendJson(res, 201, await withRequestBody(ctx.req, (body) => loadImage(target, body, { limits, ...(name ? { name } : {}) })));
  });
}


export function importLimits(env: NodeJS.ProcessEnv): Partial<ExtractLimits> {
  const num = (key: string): number | undefined => {
    const v = env[key];
    if (v === undefined || v === '') return undefined;
    if (!/^[1-9][0-9]*$/.test(v)) throw new ValidationError(`${key}=${v}: expected a positive whole number`);
    return Number(v);
  };
  const maxBytes = num('CORRAL_IMPORT_MAX_BYTES');
  const maxEntries = num('CORRAL_IMPORT_MAX_ENTRIES');
  return { ...(maxBytes ? { maxBytes } : {}), ...(maxEntries ? { maxEntries } : {}) };
}
