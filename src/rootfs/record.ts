import { posix } from 'node:path';
import type { TemplateDefaults, TemplateOrigin } from '../api/types.js';

export type { TemplateDefaults, TemplateOrigin };

/**
 * `<data-root>/templates/<name>/template.json`: what a template is made of and where it came from.
 * The record carries a `version`; each migration takes a record one version up (as the containers'
 * config.json does). A record newer than this build reads is reported, never rewritten.
 *
 * Version 0 is the layout before records existed: `<name>/rootfs` + `meta.json`, built from a
 * recipe of the package; `legacyRecord` turns its meta.json into a version-0 record.
 */
export const TEMPLATE_RECORD_VERSION = 1;

export interface LayerRecord {
  /** Relative to `<data-root>/templates/`; its first segment is the template that owns the layer. */
  path: string;
  /** `sha256:<hex>`, see digest.ts. */
  digest: string;
  /** Disk usage (blocks, each inode once), as `du` counts it. */
  sizeBytes: number;
}

export interface TemplateRecord {
  name: string;
  description: string;
  source: TemplateOrigin;
  /** sha256 over the layers' digests, top first. */
  digest: string;
  /** The template whose layers this one stacks on (commit), or null. */
  parent: string | null;
  createdAt: string;
  /** Top first, as overlayfs' lowerdir wants them. */
  layers: LayerRecord[];
  defaults: TemplateDefaults;
}

export const EMPTY_DEFAULTS: TemplateDefaults = { command: [], entrypoint: [], env: [], workdir: '', user: '', stopSignal: '' };

type Raw = Record<string, unknown>;

const MIGRATIONS: readonly ((r: Raw) => Raw)[] = [
  // 0 → 1: the one-directory layout: a single layer `<name>/rootfs` whose digest was never taken
  // (`unknown`; inspect shows it as such), defaults from the recipe the caller passes in `recipeDefaults`.
  (r) => {
    const name = String(r.name);
    const { recipeDefaults, sizeBytes, builtAt, ...rest } = r;
    return {
      ...rest,
      description: r.description ?? '',
      source: r.source ?? { kind: 'recipe', recipe: name, args: {} },
      digest: r.digest ?? 'unknown',
      parent: null,
      createdAt: r.createdAt ?? builtAt,
      layers: r.layers ?? [{ path: `${name}/rootfs`, digest: 'unknown', sizeBytes: typeof sizeBytes === 'number' ? sizeBytes : 0 }],
      defaults: r.defaults ?? recipeDefaults ?? EMPTY_DEFAULTS,
    };
  },
];

/** Why a record cannot be read, or the record brought up to date. `name` is its directory's. */
export function migrateRecord(raw: unknown, name: string): { record: TemplateRecord } | { problem: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problem: 'template.json is not a JSON object' };
  const { version = 0, ...rest } = raw as Raw;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) return { problem: `template.json has an invalid version ${JSON.stringify(version)}` };
  if (version > TEMPLATE_RECORD_VERSION) return { problem: `template.json was written by a newer Corral (version ${version}; this one reads up to ${TEMPLATE_RECORD_VERSION})` };
  let r: Raw = rest;
  for (let v = version; v < TEMPLATE_RECORD_VERSION; v++) r = MIGRATIONS[v]!(r);
  if (r.name !== name) return { problem: `template.json names ${JSON.stringify(r.name)}, not its directory ${JSON.stringify(name)}` };
  for (const key of ['digest', 'createdAt'] as const) if (typeof r[key] !== 'string') return { problem: `template.json lacks "${key}"` };
  if (r.parent !== null && typeof r.parent !== 'string') return { problem: 'template.json: "parent" must be a name or null' };
  const layers = r.layers;
  if (!Array.isArray(layers) || layers.length === 0) return { problem: 'template.json lists no layers' };
  for (const l of layers as unknown[]) {
    const problem = layerProblem(l);
    if (problem) return { problem: `template.json: ${problem}` };
  }
  const d = r.defaults as Raw | undefined;
  if (typeof d !== 'object' || d === null) return { problem: 'template.json lacks "defaults"' };
  const defaults = { ...EMPTY_DEFAULTS, ...d };
  for (const k of ['command', 'entrypoint', 'env'] as const) if (!isStrings(defaults[k])) return { problem: `template.json: defaults.${k} must be a list of strings` };
  for (const k of ['workdir', 'user', 'stopSignal'] as const) if (typeof defaults[k] !== 'string') return { problem: `template.json: defaults.${k} must be a string` };
  const source = r.source as Raw | undefined;
  if (typeof source !== 'object' || source === null || typeof source.kind !== 'string') return { problem: 'template.json lacks "source"' };
  return { record: { ...(r as unknown as TemplateRecord), description: typeof r.description === 'string' ? r.description : '', defaults } };
}

/** The record as written: the version first, so a reader knows how to take the rest. */
export function storedRecord(r: TemplateRecord): Raw {
  return { version: TEMPLATE_RECORD_VERSION, ...r };
}

/** A version-0 record from the old layout's meta.json (`{name, builtAt, sizeBytes}`). */
export function legacyRecord(meta: unknown, name: string, recipe: { description: string; defaults: TemplateDefaults } | undefined): Raw | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const m = meta as Raw;
  if (typeof m.builtAt !== 'string') return undefined;
  return { version: 0, name, description: recipe?.description ?? '', builtAt: m.builtAt, sizeBytes: m.sizeBytes, recipeDefaults: recipe?.defaults ?? EMPTY_DEFAULTS };
}

/** The template that owns a layer: its path's first segment. */
export function layerOwner(l: LayerRecord): string {
  return l.path.split('/')[0]!;
}

function layerProblem(l: unknown): string | undefined {
  if (typeof l !== 'object' || l === null) return 'a layer is not an object';
  const { path, digest, sizeBytes } = l as Raw;
  if (typeof path !== 'string' || typeof digest !== 'string' || typeof sizeBytes !== 'number') return 'a layer lacks path, digest or sizeBytes';
  // Relative, normalised, inside the templates directory: a record cannot point anywhere else.
  if (path === '' || path.startsWith('/') || posix.normalize(path) !== path || path.split('/').some((s) => s === '..' || s === '.') || !path.includes('/')) {
    return `layer path ${JSON.stringify(path)} is not <template>/<dir> inside the templates directory`;
  }
  return undefined;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
