import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TemplateBuildRequest, TemplateInfo } from '../api/types.js';
import { templatesDir, type CorralPaths } from '../config.js';
import { ConflictError, InvalidStateError, NotFoundError, ValidationError, fsError, isErrno } from '../errors.js';
import type { Runner } from '../system/runner.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { validateName } from '../util/names.js';
import { packageRoot } from '../util/package-root.js';
import { layersDigest, treeDigest } from './digest.js';
import { legacyRecord, layerOwner, migrateRecord, storedRecord, TEMPLATE_RECORD_VERSION, type LayerRecord, type TemplateRecord } from './record.js';
import { recipeArgs, Recipes, type Recipe } from './recipes.js';
import type { ProgressFn, TemplateSource } from './source.js';
import { RecipeSource } from './sources/recipe.js';

export type { ProgressFn } from './source.js';

/**
 * Templates: the read-only layers containers are made of, as data in the data root.
 *
 *   <data-root>/templates/<name>/template.json   the record (record.ts), written last
 *                               /layers/<n>/      its own layers (a template made by commit
 *                                                 also lists layers of the templates below it)
 *
 * Every template is made in `<name>.tmp-<rand>` and renamed into place when complete, so a failed
 * or interrupted build leaves no partial template (leftovers go at corrald's first use of the
 * store). A directory without a usable record is listed as invalid with the reason, never used
 * and never silently replaced. The package's `rootfs-templates/` holds build recipes only.
 *
 * "Read-only" is by use, not by mode bits: layers are only ever overlay lowerdirs, which overlayfs
 * never writes to; their modes stay as built (`/tmp` 1777), since containers see exactly them.
 */

/** What the runtime needs to start a container of the template. */
export interface ResolvedTemplate {
  /** The top layer; `layers` is what overlayfs stacks (top first). */
  rootfs: string;
  layers: string[];
  env: string[];
  command: string[];
  entrypoint: string[];
  workdir: string;
  user: string;
  stopSignal: string;
}

/** Containers that exist, with the template each was made from (the daemon lists them). */
export type Usage = () => Promise<{ id: string; name: string; template: string }[]>;

export interface TemplateStoreOptions {
  /** Directory of build recipes; default: `rootfs-templates` of the package. */
  sourcesDir?: string;
}

type Entry = { name: string; record: TemplateRecord; problem?: undefined } | { name: string; record?: undefined; problem: string };

const NO_USAGE: Usage = async () => [];
const RESERVED = /\.tmp-/;

/** Template names: container-name rules, minus what the store's own temporary names look like. */
export function validateTemplateName(name: string): string {
  validateName(name, 'template name');
  if (RESERVED.test(name)) throw new ValidationError(`invalid template name ${JSON.stringify(name)}: ".tmp-" is reserved for builds in progress`);
  return name;
}

export class TemplateStore {
  readonly recipes: Recipes;
  private readonly resolved = new Map<string, ResolvedTemplate>();
  private readonly inflight = new Map<string, { promise: Promise<TemplateInfo>; listeners: Set<ProgressFn> }>();
  private readonly locks = new KeyedMutex();
  private ready: Promise<void> | undefined;

  constructor(
    private readonly paths: CorralPaths,
    private readonly runner: Runner,
    opts: TemplateStoreOptions = {},
  ) {
    this.recipes = new Recipes(opts.sourcesDir ?? join(packageRoot(), 'rootfs-templates'));
  }

  get dir(): string {
    return templatesDir(this.paths);
  }

  /** Where recipes keep downloads between builds (debian: apt's archive of .debs). */
  get cacheDir(): string {
    return join(this.paths.dataRoot, 'cache');
  }

  // ---- queries --------------------------------------------------------------------------------

  /** Templates in the data root (ready or invalid), then recipes not built yet. */
  async list(usage: Usage = NO_USAGE): Promise<TemplateInfo[]> {
    const entries = await this.entries();
    const users = await usage();
    const out = entries.map((e) => this.info(e, entries, users));
    for (const name of await this.recipes.names()) {
      if (entries.some((e) => e.name === name)) continue;
      out.push(recipeInfo((await this.recipes.get(name))!, join(this.dir, name)));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One template (or a recipe not built yet); NotFoundError says how to get one. */
  async get(name: string, usage: Usage = NO_USAGE): Promise<TemplateInfo> {
    validateTemplateName(name);
    const entry = await this.entry(name);
    if (entry) return this.info(entry, await this.entries(), await usage());
    const recipe = await this.recipes.get(name);
    if (recipe) return recipeInfo(recipe, join(this.dir, name));
    throw await this.notFound(name);
  }

  /** The record of a ready template. */
  async record(name: string): Promise<TemplateRecord> {
    validateTemplateName(name);
    const entry = await this.entry(name);
    if (!entry) {
      const recipe = await this.recipes.get(name);
      if (recipe) throw new NotFoundError(`template ${JSON.stringify(name)} is not built yet: corral template build ${name}`, { name });
      throw await this.notFound(name);
    }
    if (entry.problem !== undefined) throw invalid(name, entry.problem);
    return entry.record;
  }

  /** Absolute layer directories, top first. */
  layerDirs(r: TemplateRecord): string[] {
    return r.layers.map((l) => join(this.dir, l.path));
  }

  /** What the runtime needs (runtime `TemplateSource`); builds an autoBuild recipe on first use. */
  async resolve(name: string): Promise<ResolvedTemplate> {
    // Templates do not change under a running corrald except through this store: remember them,
    // since resolve() is on the start path.
    const cached = this.resolved.get(name);
    if (cached) return cached;
    validateTemplateName(name);
    await this.init();
    if (!(await this.entry(name))) await this.ensureBuilt(name);
    const r = await this.record(name);
    const layers = this.layerDirs(r);
    const d = r.defaults;
    const resolved = { rootfs: layers[0]!, layers, env: d.env, command: d.command, entrypoint: d.entrypoint, workdir: d.workdir, user: d.user, stopSignal: d.stopSignal };
    this.resolved.set(name, resolved);
    return resolved;
  }

  // ---- making templates -----------------------------------------------------------------------

  /**
   * The template, built from its recipe if it is missing and the recipe builds on first use
   * (busybox); concurrent callers share one build and each gets its progress lines.
   */
  ensureBuilt(name: string, onProgress?: ProgressFn): Promise<TemplateInfo> {
    try {
      validateTemplateName(name);
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

  /** `corral template build RECIPE [--name N] [options]`: refused when N exists. */
  async build(req: TemplateBuildRequest, progress: ProgressFn = () => {}, signal?: AbortSignal): Promise<TemplateInfo> {
    validateName(req.recipe, 'recipe name');
    const name = validateTemplateName(req.name ?? req.recipe);
    const recipe = await this.recipes.get(req.recipe);
    if (!recipe) {
      const names = await this.recipes.names();
      throw new NotFoundError(`no recipe ${JSON.stringify(req.recipe)} (recipes: ${names.join(', ') || 'none'})`, { recipe: req.recipe, available: names });
    }
    const source = new RecipeSource(recipe, recipeArgs(recipe, req.args ?? {}), this.runner);
    const started = Date.now();
    await this.add(name, source, progress, signal);
    progress(`template ${name} built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return this.get(name);
  }

  /**
   * Make template `name` from a source (recipe, archive, commit): in `<name>.tmp-*`, digests
   * taken, record written, then renamed into place. Refused when `name` exists.
   */
  async add(name: string, source: TemplateSource, progress: ProgressFn = () => {}, signal?: AbortSignal): Promise<TemplateRecord> {
    validateTemplateName(name);
    await this.init();
    return this.locks.run(`name:${name}`, async () => {
      await this.assertFree(name);
      const final = join(this.dir, name);
      const tmp = `${final}.tmp-${randomBytes(6).toString('hex')}`;
      try {
        await mkdir(tmp, { mode: 0o755 }).catch((err: unknown) => {
          throw fsError('create', tmp, err);
        });
        const made = await source.produce({ name, dir: tmp, templatesDir: this.dir, cacheDir: this.cacheDir, progress, ...(signal ? { signal } : {}) });
        const layers: LayerRecord[] = [];
        for (const l of made.layers) {
          if ('shared' in l) layers.push(l.shared);
          else {
            progress(`taking the digest of layer ${l.own}`);
            layers.push({ path: `${name}/layers/${l.own}`, ...(await treeDigest(join(tmp, 'layers', l.own))) });
          }
        }
        const record: TemplateRecord = {
          name,
          description: made.description,
          source: made.source,
          digest: layersDigest(layers.map((l) => l.digest)),
          parent: made.parent,
          createdAt: new Date().toISOString(),
          layers,
          defaults: made.defaults,
        };
        await atomicWriteJson(join(tmp, 'template.json'), storedRecord(record), 0o644);
        await this.locks.run('store', async () => {
          // A parent removed meanwhile would leave this one pointing at nothing.
          for (const l of layers) {
            if (l.path.startsWith(`${name}/`)) continue;
            if (!(await isDir(join(this.dir, l.path)))) throw new ConflictError(`make template ${name}: layer ${l.path} of ${layerOwner(l)} is gone`);
          }
          await this.assertFree(name);
          await rename(tmp, final).catch((err: unknown) => {
            throw fsError('rename', `${tmp} to ${final}`, err);
          });
        });
        this.resolved.delete(name);
        return record;
      } catch (err) {
        await rm(tmp, { recursive: true, force: true }).catch(() => {});
        throw err;
      }
    });
  }

  // ---- removing -------------------------------------------------------------------------------

  /** Refused while a container is made from it or a template stacks on its layers, naming them. */
  async remove(name: string, usage: Usage = NO_USAGE): Promise<void> {
    validateTemplateName(name);
    await this.init();
    await this.locks.run('store', async () => {
      const entries = await this.entries();
      const entry = entries.find((e) => e.name === name);
      if (!entry) throw await this.notFound(name);
      const users = (await usage()).filter((c) => c.template === name);
      const children = childrenOf(name, entries);
      if (users.length > 0 || children.length > 0) {
        const what = [
          ...(users.length ? [`container${users.length > 1 ? 's' : ''} ${users.map((u) => u.name).join(', ')}`] : []),
          ...(children.length ? [`template${children.length > 1 ? 's' : ''} ${children.join(', ')}`] : []),
        ];
        throw new ConflictError(`template ${name} is in use by ${what.join(' and ')}: remove ${users.length + children.length > 1 ? 'them' : 'it'} first`, {
          containers: users.map((u) => ({ id: u.id, name: u.name })),
          templates: children,
        });
      }
      await this.discard(name);
    });
  }

  /** Templates no container and no other template uses; removed unless `dryRun`. */
  async prune(usage: Usage = NO_USAGE, dryRun = false): Promise<string[]> {
    await this.init();
    return this.locks.run('store', async () => {
      const entries = (await this.entries()).filter((e) => e.record);
      const used = new Set((await usage()).map((c) => c.template));
      const gone = new Set<string>();
      // A child pruned can leave its parent unused: repeat until nothing more goes.
      for (let changed = true; changed; ) {
        changed = false;
        for (const e of entries) {
          if (gone.has(e.name) || used.has(e.name)) continue;
          if (childrenOf(e.name, entries.filter((x) => !gone.has(x.name))).length > 0) continue;
          gone.add(e.name);
          changed = true;
        }
      }
      const names = [...gone].sort();
      if (!dryRun) for (const n of names) await this.discard(n);
      return names;
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  private async buildIfMissing(name: string, progress: ProgressFn): Promise<TemplateInfo> {
    await this.init();
    if (await this.entry(name)) return this.get(name);
    const recipe = await this.recipes.get(name);
    if (!recipe) throw await this.notFound(name);
    if (!recipe.autoBuild) throw new NotFoundError(`template ${JSON.stringify(name)} is not built yet: corral template build ${name}`, { name });
    const started = Date.now();
    await this.add(name, new RecipeSource(recipe, recipeArgs(recipe, {}), this.runner), progress);
    progress(`template ${name} built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return this.get(name);
  }

  /** Once per store: the directory exists, and builds or removals cut short are cleaned up. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o755 }).catch((err: unknown) => {
        throw fsError('create', this.dir, err);
      });
      for (const e of await readdir(this.dir)) {
        if (e.includes('.tmp-') || e.startsWith('.trash-')) await rm(join(this.dir, e), { recursive: true, force: true });
      }
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async entries(): Promise<Entry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw fsError('list', this.dir, err);
    }
    const out: Entry[] = [];
    for (const n of names.sort()) {
      if (n.startsWith('.') || n.includes('.tmp-')) continue;
      const e = await this.entry(n);
      if (e) out.push(e);
    }
    return out;
  }

  /** The template in directory `name`, undefined when there is none. The old layout is migrated. */
  private async entry(name: string): Promise<Entry | undefined> {
    const dir = join(this.dir, name);
    const st = await stat(dir).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw fsError('stat', dir, err);
    });
    if (!st) return undefined;
    if (!st.isDirectory()) return { name, problem: 'not a directory' };
    if (!NAME_OK(name)) return { name, problem: 'not a valid template name' };
    const file = join(dir, 'template.json');
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) return { name, problem: `template.json cannot be read: ${err instanceof Error ? err.message : String(err)}` };
      raw = await this.legacy(name);
      if (raw === undefined) return { name, problem: 'no template.json record (a directory placed here needs one; see docs/templates.md)' };
    }
    const m = migrateRecord(raw, name);
    if ('problem' in m) return { name, problem: m.problem };
    for (const l of m.record.layers) {
      if (!(await isDir(join(this.dir, l.path)))) return { name, problem: `layer ${l.path} is missing` };
    }
    const version = (raw as { version?: unknown }).version;
    if (version !== TEMPLATE_RECORD_VERSION) await this.upgrade(name, m.record, file);
    return { name, record: m.record };
  }

  /** The layout before records (`<name>/rootfs` + meta.json): a version-0 record with its digest taken. */
  private async legacy(name: string): Promise<unknown> {
    const dir = join(this.dir, name);
    let meta: unknown;
    try {
      meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    } catch {
      return undefined;
    }
    if (!(await isDir(join(dir, 'rootfs')))) return undefined;
    const raw = legacyRecord(meta, name, await this.recipes.get(name).catch(() => undefined));
    if (!raw) return undefined;
    const { digest, sizeBytes } = await treeDigest(join(dir, 'rootfs'));
    return { ...raw, digest: layersDigest([digest]), layers: [{ path: `${name}/rootfs`, digest, sizeBytes }] };
  }

  /** Write a migrated record back (once); a failure only means migrating again next time. */
  private async upgrade(name: string, record: TemplateRecord, file: string): Promise<void> {
    await atomicWriteJson(file, storedRecord(record), 0o644).catch(() => {});
    this.resolved.delete(name);
  }

  private async assertFree(name: string): Promise<void> {
    if (await stat(join(this.dir, name)).then(() => true, () => false)) {
      throw new ConflictError(`template ${name} exists: remove it first (corral template rm ${name}) or choose another name (--name)`, { name });
    }
  }

  /** Rename away (atomic), then delete; leftovers of a crash in between go at the next start. */
  private async discard(name: string): Promise<void> {
    const dir = join(this.dir, name);
    const trash = join(this.dir, `.trash-${name}-${randomBytes(4).toString('hex')}`);
    await rename(dir, trash).catch((err: unknown) => {
      throw fsError('rename', `${dir} to ${trash}`, err);
    });
    this.resolved.delete(name);
    await rm(trash, { recursive: true, force: true });
  }

  private async notFound(name: string): Promise<NotFoundError> {
    const available = [...new Set([...(await this.entries()).filter((e) => e.record).map((e) => e.name), ...(await this.recipes.names())])].sort();
    return new NotFoundError(
      `template ${JSON.stringify(name)} not found (available: ${available.join(', ') || 'none'}); make one with corral template build RECIPE --name ${name}, corral template load -i FILE --name ${name} or corral commit CONTAINER ${name}`,
      { name, available },
    );
  }

  private info(e: Entry, all: Entry[], users: { id: string; name: string; template: string }[]): TemplateInfo {
    const containers = users.filter((u) => u.template === e.name).map((u) => ({ id: u.id, name: u.name }));
    const children = childrenOf(e.name, all);
    if (!e.record) {
      return {
        name: e.name, status: 'invalid', problem: e.problem, path: join(this.dir, e.name), builtAt: null, sizeBytes: null, built: false, autoBuild: false,
        description: '', source: null, digest: null, parent: null, layers: [], ownSizeBytes: null, sharedSizeBytes: null, defaults: null, containers, children,
      };
    }
    const r = e.record;
    const layers = r.layers.map((l) => ({ path: join(this.dir, l.path), digest: l.digest, sizeBytes: l.sizeBytes, owner: layerOwner(l) }));
    const own = layers.filter((l) => l.owner === r.name).reduce((s, l) => s + l.sizeBytes, 0);
    const total = layers.reduce((s, l) => s + l.sizeBytes, 0);
    return {
      name: r.name,
      status: 'ready',
      problem: null,
      path: layers[0]!.path,
      builtAt: r.createdAt,
      sizeBytes: total,
      built: true,
      autoBuild: false,
      description: r.description,
      source: r.source,
      digest: r.digest,
      parent: r.parent,
      layers,
      ownSizeBytes: own,
      sharedSizeBytes: total - own,
      defaults: r.defaults,
      containers,
      children,
    };
  }
}

const NAME_OK = (name: string): boolean => {
  try {
    validateTemplateName(name);
    return true;
  } catch {
    return false;
  }
};

/** Templates other than `name` that stack on a layer `name` owns. */
function childrenOf(name: string, entries: Entry[]): string[] {
  return entries.filter((e) => e.name !== name && e.record?.layers.some((l) => layerOwner(l) === name)).map((e) => e.name);
}

function recipeInfo(recipe: Recipe, dir: string): TemplateInfo {
  return {
    name: recipe.name, status: 'recipe', problem: null, path: join(dir, 'layers', '0'), builtAt: null, sizeBytes: null, built: false, autoBuild: recipe.autoBuild,
    description: recipe.description, source: { kind: 'recipe', recipe: recipe.name, args: {} }, digest: null, parent: null, layers: [],
    ownSizeBytes: null, sharedSizeBytes: null, defaults: recipe.defaults, containers: [], children: [],
  };
}

function invalid(name: string, problem: string): InvalidStateError {
  return new InvalidStateError(`template ${name} is invalid: ${problem}; fix it or remove it (corral template rm ${name})`, { name, problem });
}

const isDir = (p: string): Promise<boolean> => stat(p).then((s) => s.isDirectory(), () => false);
