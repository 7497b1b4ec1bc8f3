import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TemplateInfo } from '../api/types.js';
import { templatesDir, type CorralPaths } from '../config.js';
import { CommandFailedError, NotFoundError, ValidationError, fsError, isErrno } from '../errors.js';
import type { Runner } from '../system/runner.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import { validateName } from '../util/names.js';
import { packageRoot } from '../util/package-root.js';

/**
 * Templates: the read-only lower layers containers are made of.
 *
 * Sources live in the package (`rootfs-templates/<name>/build` + `template.json`); a built template
 * lives at `<dataRoot>/templates/<name>/{rootfs,meta.json}`. It is built on first use, once: callers
 * in this process share one in-flight build, which goes to `<name>.tmp-<rand>` and is renamed into
 * place when complete, so a crash never leaves a half template (leftovers go at the next build).
 * One corrald per data root (its pid file) means no other process builds there meanwhile.
 *
 * "Read-only" is by use, not by mode bits: the rootfs is only ever an overlay lowerdir, which
 * overlayfs never writes to. Its modes stay as built (`/tmp` 1777, `/root` 0700), because the
 * container sees exactly them; `chmod -R a-w` would make them wrong inside every container.
 */

/** `rootfs-templates/<name>/template.json`. */
export interface TemplateManifest {
  name: string;
  description: string;
  defaultCommand: string[];
  env: string[];
}

/** A template with its defaults; `path` is its rootfs (where it is, or will be once built). */
export interface Template extends TemplateInfo {
  defaultCommand: string[];
  env: string[];
}

interface TemplateMeta {
  name: string;
  builtAt: string;
  sizeBytes: number;
  buildScript: string;
}

export type ProgressFn = (message: string) => void;

export interface TemplateStoreOptions {
  /** Directory of template sources; default: `rootfs-templates` of the package. */
  sourcesDir?: string;
  /** Default 10 minutes (a first build may download busybox-static). */
  buildTimeoutMs?: number;
}

export class TemplateStore {
  private readonly sourcesDir: string;
  private readonly resolved = new Map<string, { rootfs: string; env: string[]; command: string[] }>();
  private readonly inflight = new Map<string, { promise: Promise<Template>; listeners: Set<ProgressFn> }>();

  constructor(
    private readonly paths: CorralPaths,
    private readonly runner: Runner,
    private readonly opts: TemplateStoreOptions = {},
  ) {
    this.sourcesDir = opts.sourcesDir ?? join(packageRoot(), 'rootfs-templates');
  }

  async list(): Promise<TemplateInfo[]> {
    const names = await this.sourceNames();
    return Promise.all(names.map(async (n) => toInfo(await this.get(n))));
  }

  /** The template as it stands, without building it. */
  async get(name: string): Promise<Template> {
    const manifest = await this.manifest(name);
    const meta = await this.readMeta(name);
    return {
      name,
      description: manifest.description,
      path: join(this.dir(name), 'rootfs'),
      built: meta !== undefined,
      builtAt: meta?.builtAt ?? null,
      sizeBytes: meta?.sizeBytes ?? null,
      defaultCommand: manifest.defaultCommand,
      env: manifest.env,
    };
  }

  /** Build the template if it is not built yet; concurrent callers share one build. */
  ensureBuilt(name: string, onProgress?: ProgressFn): Promise<Template> {
    try {
      validateName(name, 'template name');
    } catch (err) {
      return Promise.reject(err);
    }
    let entry = this.inflight.get(name);
    if (!entry) {
      const listeners = new Set<ProgressFn>();
      const progress: ProgressFn = (m) => listeners.forEach((l) => l(m));
      const promise = this.buildIfMissing(name, progress).finally(() => this.inflight.delete(name));
      entry = { promise, listeners };
      this.inflight.set(name, entry);
    }
    if (onProgress) entry.listeners.add(onProgress);
    return entry.promise;
  }

  /** What the runtime needs (runtime `TemplateSource`): built rootfs and defaults. */
  async resolve(name: string): Promise<{ rootfs: string; env: string[]; command: string[] }> {
    // Built templates never change under a running corrald (only it builds them): remember them,
    // since resolve() is on the start path.
    const cached = this.resolved.get(name);
    if (cached) return cached;
    const t = await this.ensureBuilt(name);
    const r = { rootfs: t.path, env: t.env, command: t.defaultCommand };
    this.resolved.set(name, r);
    return r;
  }

  private async buildIfMissing(name: string, progress: ProgressFn): Promise<Template> {
    const current = await this.get(name);
    if (current.built) return current;
    const parent = templatesDir(this.paths);
    const dir = this.dir(name);
    const script = join(this.sourcesDir, name, 'build');
    await mkdir(parent, { recursive: true, mode: 0o755 }).catch((err: unknown) => {
      throw fsError('create', parent, err);
    });
    await this.removeLeftovers(name);
    const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
    const started = Date.now();
    try {
      await mkdir(tmp, { mode: 0o755 });
      progress(`building template ${name}`);
      const result = await this.runner
        .run('/bin/sh', [script, join(tmp, 'rootfs')], { timeoutMs: this.opts.buildTimeoutMs ?? 600_000 })
        .catch((err: unknown) => {
          throw buildFailed(name, err);
        });
      for (const line of result.stdout.split('\n').filter(Boolean)) progress(line);
      const meta: TemplateMeta = { name, builtAt: new Date().toISOString(), sizeBytes: await treeSize(join(tmp, 'rootfs')), buildScript: script };
      await atomicWriteJson(join(tmp, 'meta.json'), meta, 0o444);
      // Not built (no meta.json) yet present: a broken directory from outside; replace it.
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir).catch((err: unknown) => {
        throw fsError('rename', `${tmp} to ${dir}`, err);
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
    progress(`template ${name} built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return this.get(name);
  }

  /** `<name>.tmp-*` directories are builds that never finished. */
  private async removeLeftovers(name: string): Promise<void> {
    const parent = templatesDir(this.paths);
    for (const entry of await readdir(parent)) {
      if (entry.startsWith(`${name}.tmp-`)) await rm(join(parent, entry), { recursive: true, force: true });
    }
  }

  private async manifest(name: string): Promise<TemplateManifest> {
    validateName(name, 'template name');
    const file = join(this.sourcesDir, name, 'template.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw fsError('read', file, err);
      const available = await this.sourceNames();
      throw new NotFoundError(`template ${JSON.stringify(name)} not found (available: ${available.join(', ') || 'none'})`, { name, available });
    }
    return parseManifest(text, name, file);
  }

  private async readMeta(name: string): Promise<TemplateMeta | undefined> {
    try {
      const meta = JSON.parse(await readFile(join(this.dir(name), 'meta.json'), 'utf8')) as Partial<TemplateMeta>;
      return typeof meta.builtAt === 'string' ? (meta as TemplateMeta) : undefined;
    } catch {
      return undefined; // missing or unreadable: not built
    }
  }

  private async sourceNames(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.sourcesDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw fsError('list', this.sourcesDir, err);
    }
    const names: string[] = [];
    for (const e of entries.sort()) {
      if (await lstat(join(this.sourcesDir, e, 'template.json')).then(() => true, () => false)) names.push(e);
    }
    return names;
  }

  private dir(name: string): string {
    return join(templatesDir(this.paths), name);
  }
}

function parseManifest(text: string, name: string, file: string): TemplateManifest {
  let raw: Partial<TemplateManifest>;
  try {
    raw = JSON.parse(text) as Partial<TemplateManifest>;
  } catch (err) {
    throw new ValidationError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (raw.name !== name || !strings(raw.defaultCommand) || !strings(raw.env)) {
    throw new ValidationError(`${file}: needs "name": ${JSON.stringify(name)}, "defaultCommand" and "env" as string arrays`);
  }
  return { name, description: typeof raw.description === 'string' ? raw.description : '', defaultCommand: raw.defaultCommand, env: raw.env };
}

function buildFailed(name: string, err: unknown): unknown {
  if (!(err instanceof CommandFailedError)) return err;
  const last = err.stderr.trim().split('\n').pop() || `exit ${err.exitCode ?? 'unknown'}`;
  return new CommandFailedError(err.command, err.exitCode, err.stderr, `build template ${name}: ${last}`);
}

/** Bytes in files and symlinks below `dir` (apparent size, like `du -sb` without directories). */
async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await treeSize(p) : (await lstat(p)).size;
  }
  return total;
}

function toInfo(t: Template): TemplateInfo {
  return { name: t.name, path: t.path, builtAt: t.builtAt, sizeBytes: t.sizeBytes, built: t.built, description: t.description };
}
