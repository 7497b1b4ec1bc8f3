import type { TemplateDefaults } from '../../api/types.js';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TemplateInfo } from '../../api/types.js';
import { templatesDir, type CorralPaths } from '../../config.js';
import { ConflictError, fsError } from '../../errors.js';
import { atomicWriteJson } from '../../util/atomic-write.js';
import { validateName } from '../../util/names.js';
import { packageRoot } from '../../util/package-root.js';

/** A template's run defaults (an image config's, in Corral's terms): the store's record type. */
export type { TemplateDefaults };

/** Where a template came from, kept in its record. */
export interface TemplateOrigin {
  kind: 'rootfs-tarball' | 'docker-save' | 'oci';
  /** The image id (config digest), for images. */
  digest?: string;
  tags?: string[];
  compression?: string;
  layers?: string[];
}

/**
 * What `template import` and `template load` need from a template store. The store decides the
 * layout it wants (one flattened directory, or one overlay lower directory per layer) and gives a
 * work directory on its own filesystem, so that `create` only renames.
 */
export interface TemplateTarget {
  readonly layout: 'flat' | 'layers';
  /** A fresh empty directory for the import's work; `release` removes it. */
  workDir(): Promise<{ path: string; release(): Promise<void> }>;
  /** Throws a ConflictError when `name` is taken (checked early, and again by `create`). */
  assertFree(name: string): Promise<void>;
  /** Make template `name` of `layers` (bottom first; exactly one for 'flat'), moving them in. */
  create(name: string, layers: string[], defaults: TemplateDefaults, origin: TemplateOrigin): Promise<void>;
}

/** meta.json of today's store (src/rootfs/templates.ts) plus what an import adds. */
interface ImportedMeta {
  name: string;
  builtAt: string;
  sizeBytes: number;
  buildScript: string;
  imported: { origin: TemplateOrigin; defaults: TemplateDefaults };
}

const WORK_PREFIX = '.import-';
/** Work directories of this process; others' are leftovers of a crashed corrald. */
const live = new Set<string>();

/**
 * The adapter until the layered template store lands: `<data-root>/templates/<name>/rootfs` (one
 * flattened tree) and `meta.json`, the layout src/rootfs/templates.ts reads, with the defaults.
 */
export class DataRootTarget implements TemplateTarget {
  readonly layout = 'flat' as const;

  constructor(
    private readonly paths: CorralPaths,
    private readonly sourcesDir = join(packageRoot(), 'rootfs-templates'),
  ) {}

  async workDir(): Promise<{ path: string; release(): Promise<void> }> {
    const parent = templatesDir(this.paths);
    await mkdir(parent, { recursive: true, mode: 0o755 });
    for (const e of await readdir(parent)) {
      if (e.startsWith(WORK_PREFIX) && !live.has(join(parent, e))) await rm(join(parent, e), { recursive: true, force: true });
    }
    const dir = join(parent, `${WORK_PREFIX}${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { mode: 0o700 });
    live.add(dir);
    return {
      path: dir,
      release: async () => {
        await rm(dir, { recursive: true, force: true });
        live.delete(dir);
      },
    };
  }

  async assertFree(name: string): Promise<void> {
    validateName(name, 'template name');
    const taken = async (p: string): Promise<boolean> => lstat(p).then(() => true, () => false);
    if ((await taken(join(templatesDir(this.paths), name))) || (await taken(join(this.sourcesDir, name, 'template.json')))) {
      throw new ConflictError(`template ${JSON.stringify(name)} already exists: choose another name (--name)`, { name });
    }
  }

  async create(name: string, layers: string[], defaults: TemplateDefaults, origin: TemplateOrigin): Promise<void> {
    await this.assertFree(name);
    if (layers.length !== 1) throw new Error(`DataRootTarget takes one flattened layer, got ${layers.length}`);
    const dir = join(templatesDir(this.paths), name);
    const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
    await mkdir(tmp, { mode: 0o755 });
    try {
      await rename(layers[0]!, join(tmp, 'rootfs'));
      const meta: ImportedMeta = { name, builtAt: new Date().toISOString(), sizeBytes: await treeSize(join(tmp, 'rootfs')), buildScript: '', imported: { origin, defaults } };
      await atomicWriteJson(join(tmp, 'meta.json'), meta, 0o444);
      await rename(tmp, dir).catch((err: unknown) => {
        throw fsError('rename', `${tmp} to ${dir}`, err);
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
}


async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await treeSize(p) : (await lstat(p)).size;
  }
  return total;
}
