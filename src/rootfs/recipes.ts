import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError, fsError, isErrno } from '../errors.js';
import { EMPTY_DEFAULTS, type TemplateDefaults } from './record.js';

/**
 * Build recipes: `rootfs-templates/<name>/build` and its `template.json`, in the package. A recipe
 * is not a template: `corral template build <recipe>` makes one in the data root. Recipes marked
 * `autoBuild` (busybox: seconds, no network when busybox-static is installed) are built on first use.
 */
export interface RecipeOption {
  description: string;
  /** What the build gets when the option is not given; absent: empty. */
  default?: string;
  /** The value must match it whole (values reach a shell script through the environment). */
  pattern: string;
}

export interface Recipe {
  name: string;
  description: string;
  autoBuild: boolean;
  defaults: TemplateDefaults;
  options: Record<string, RecipeOption>;
  /** Minutes a build may take before it is stopped. */
  timeoutMinutes: number;
  script: string;
  dir: string;
}

export class Recipes {
  constructor(readonly dir: string) {}

  async names(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw fsError('list', this.dir, err);
    }
    const names: string[] = [];
    for (const e of entries.sort()) {
      if (await lstat(join(this.dir, e, 'template.json')).then(() => true, () => false)) names.push(e);
    }
    return names;
  }

  /** The recipe, or undefined when the package has none of that name. */
  async get(name: string): Promise<Recipe | undefined> {
    const file = join(this.dir, name, 'template.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
      throw fsError('read', file, err);
    }
    return parseRecipe(text, name, file, join(this.dir, name));
  }
}

/** Check `args` against the recipe's options and fill in their defaults. */
export function recipeArgs(recipe: Recipe, args: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(args)) {
    if (!recipe.options[key]) {
      const known = Object.keys(recipe.options);
      throw new ValidationError(`recipe ${recipe.name} has no option ${JSON.stringify(key)}${known.length ? ` (it has: ${known.join(', ')})` : ''}`);
    }
  }
  for (const [key, opt] of Object.entries(recipe.options)) {
    const value = args[key] ?? opt.default ?? '';
    if (value !== '' && !new RegExp(`^(?:${opt.pattern})$`).test(value)) {
      throw new ValidationError(`recipe ${recipe.name}: invalid ${key} ${JSON.stringify(value)} (${opt.description})`);
    }
    out[key] = value;
  }
  return out;
}

function parseRecipe(text: string, name: string, file: string, dir: string): Recipe {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ValidationError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (raw.name !== name || !strings(raw.defaultCommand) || !strings(raw.env)) {
    throw new ValidationError(`${file}: needs "name": ${JSON.stringify(name)}, "defaultCommand" and "env" as string arrays`);
  }
  const options: Record<string, RecipeOption> = {};
  for (const [k, v] of Object.entries((raw.options as Record<string, unknown> | undefined) ?? {})) {
    const o = v as Partial<RecipeOption>;
    if (!/^[a-z][a-z0-9]*$/.test(k) || typeof o.pattern !== 'string') throw new ValidationError(`${file}: option ${JSON.stringify(k)} needs a lowercase name and a "pattern"`);
    options[k] = { description: typeof o.description === 'string' ? o.description : k, pattern: o.pattern, ...(typeof o.default === 'string' ? { default: o.default } : {}) };
  }
  return {
    name,
    description: typeof raw.description === 'string' ? raw.description : '',
    autoBuild: raw.autoBuild === true,
    defaults: {
      ...EMPTY_DEFAULTS,
      command: raw.defaultCommand,
      env: raw.env,
      ...(typeof raw.workdir === 'string' ? { workdir: raw.workdir } : {}),
      ...(typeof raw.stopSignal === 'string' ? { stopSignal: raw.stopSignal } : {}),
    },
    options,
    timeoutMinutes: typeof raw.timeoutMinutes === 'number' ? raw.timeoutMinutes : 10,
    script: join(dir, 'build'),
    dir,
  };
}
