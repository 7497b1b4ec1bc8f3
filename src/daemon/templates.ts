import { spawn } from 'node:child_process';
import { mkdtemp, rmdir } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { TemplateBuildRequest, TemplateCommitResponse, TemplateInfo } from '../api/types.js';
import { toEnvelope } from '../api/errors.js';
import type { CorralPaths } from '../config.js';
import { CommandFailedError, ValidationError } from '../errors.js';
import { mergedArgv } from '../rootfs/merged.js';
import { CommitSource } from '../rootfs/sources/commit.js';
import { TemplateStore, validateTemplateName, type Usage } from '../rootfs/templates.js';
import type { Containers, Logger } from '../runtime/containers.js';
import { ExecaRunner } from '../system/runner.js';
import { findProgram } from '../system/which.js';
import { queryBool, readJson, sendJson } from './http.js';
import type { Router } from './router.js';

/** The daemon's template store: templates in the data root, recipes from rootfs-templates/. */
export function templateSource(paths: CorralPaths): TemplateStore {
  return new TemplateStore(paths, new ExecaRunner());
}

export interface TemplateRouteDeps {
  paths: CorralPaths;
  templates: TemplateStore;
  containers: Containers;
  log: Logger;
}

/** The routes under /v1/templates, plus commit and export of a container (docs/api.md). */
export function templateRoutes(r: Router, d: TemplateRouteDeps): void {
  const store = d.templates;
  const c = d.containers;
  const usage: Usage = async () => (await c.list(true)).map((x) => ({ id: x.id, name: x.name, template: x.template }));
  const runner = new ExecaRunner();

  r.on('GET', '/v1/templates', async (_ctx, res) => sendJson(res, 200, await store.list(usage)));
  r.on('POST', '/v1/templates/build', async (ctx, res) => {
    const req = buildRequest(await readJson(ctx.req));
    await streamed(res, (progress, signal) => store.build(req, progress, signal));
  });
  r.on('POST', '/v1/templates/prune', async (ctx, res) => {
    sendJson(res, 200, { removed: await store.prune(usage, queryBool(ctx.query.get('dryRun'))) });
  });
  r.on('POST', '/v1/templates/commit', async (ctx, res) => {
    const body = (await readJson(ctx.req)) as { container?: unknown; name?: unknown } | undefined;
    if (typeof body?.container !== 'string' || typeof body.name !== 'string') throw new ValidationError('commit: body needs "container" and "name" strings');
    const name = validateTemplateName(body.name);
    const cfg = c.resolve(body.container);
    const parent = await store.record(cfg.template);
    const warnings: string[] = [];
    if ((await c.state(cfg.id)).status === 'running') {
      warnings.push(`${cfg.name} is running: committed without pausing it; files it was writing may be caught half-written`);
    }
    const source = new CommitSource(
      { container: { id: cfg.id, name: cfg.name }, upper: c.store.layout(cfg.id).upper, parent, parentDirs: store.layerDirs(parent), unshare: await findProgram('unshare') },
      runner,
    );
    await store.add(name, source, (m) => d.log.info(m, { component: 'templates' }));
    const answer: TemplateCommitResponse = { template: await store.get(name, usage), warnings };
    sendJson(res, 201, answer);
  });
  r.on('GET', '/v1/templates/:name', async (ctx, res) => sendJson(res, 200, await store.get(ctx.params.name!, usage)));
  r.on('DELETE', '/v1/templates/:name', async (ctx, res) => {
    await store.remove(ctx.params.name!, usage);
    res.writeHead(204).end();
  });
  // The template, built first if it is an autoBuild recipe not built yet; `run` shows the lines.
  r.on('POST', '/v1/templates/:name/prepare', async (ctx, res) => {
    const name = ctx.params.name!;
    await streamed(res, (progress) => store.ensureBuilt(name, progress));
  });
  r.on('GET', '/v1/containers/:ref/export', async (ctx, res) => {
    const cfg = c.resolve(ctx.params.ref!);
    const t = await store.resolve(cfg.template);
    const mnt = await mkdtemp(join(d.paths.runRoot, 'export-'));
    try {
      const argv = mergedArgv(await findProgram('unshare'), mnt, [c.store.layout(cfg.id).upper, ...t.layers], (root) => [
        'tar', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', root, '-cf', '-', '.',
      ]);
      await streamTar(res, argv.file, argv.args, `export ${cfg.name}`);
    } finally {
      await rmdir(mnt).catch(() => {});
    }
  });
}

function buildRequest(body: unknown): TemplateBuildRequest {
  const b = body as Partial<TemplateBuildRequest> | undefined;
  if (typeof b?.recipe !== 'string') throw new ValidationError('build: body needs "recipe"');
  if (b.name !== undefined && typeof b.name !== 'string') throw new ValidationError('build: "name" must be a string');
  const args = b.args ?? {};
  if (typeof args !== 'object' || args === null || Object.values(args).some((v) => typeof v !== 'string')) throw new ValidationError('build: "args" must map option names to strings');
  return { recipe: b.recipe, ...(b.name !== undefined ? { name: b.name } : {}), args };
}

/**
 * A long operation as ndjson: `{"progress": line}`s, then `{"template": …}` or the error envelope.
 * An error before the first line is a plain HTTP error; the client leaving aborts the work.
 */
async function streamed(res: ServerResponse, work: (progress: (line: string) => void, signal: AbortSignal) => Promise<TemplateInfo>): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) abort.abort();
  });
  const start = (): void => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  };
  let result: TemplateInfo;
  try {
    result = await work((line) => {
      start();
      if (!res.writableEnded) res.write(JSON.stringify({ progress: line }) + '\n');
    }, abort.signal);
  } catch (err) {
    if (!res.headersSent) throw err;
    res.end(JSON.stringify(toEnvelope(err).body) + '\n');
    return;
  }
  start();
  res.end(JSON.stringify({ template: result }) + '\n');
}

/** Pipe a tar-writing command to the response; a failure before any byte is an HTTP error. */
function streamTar(res: ServerResponse, file: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let started = false;
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 8192) stderr += b.toString();
    });
    res.on('close', () => {
      if (!res.writableEnded) child.kill('SIGTERM');
    });
    child.stdout.once('data', (first: Buffer) => {
      started = true;
      res.writeHead(200, { 'content-type': 'application/x-tar' });
      res.write(first);
      child.stdout.pipe(res, { end: false });
    });
    child.once('error', (err) => reject(new CommandFailedError(file, undefined, err.message, `${what}: ${err.message}`)));
    child.once('close', (code) => {
      // tar's 1: a file changed while it was read (a running container); the archive is whole.
      if (code === 0 || code === 1) {
        if (!started) res.writeHead(200, { 'content-type': 'application/x-tar' });
        res.end();
        return resolve();
      }
      const err = new CommandFailedError([file, ...args].join(' '), code ?? undefined, stderr, `${what}: ${stderr.trim().split('\n').pop() || `exit ${code}`}`);
      if (!started) return reject(err);
      res.destroy(err);
      resolve();
    });
  });
}
