import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CorralClient } from '../../client/client.js';
import { ValidationError } from '../../errors.js';
import type { ManifestContainer, ManifestSpec } from '../../manifest/index.js';
import { buildEnv } from '../options.js';

/** Labels that tie a container to the manifest it came from (ps, plan --prune, drift). */
export const LABEL_MANIFEST = 'corral.manifest';
export const LABEL_HASH = 'corral.config-hash';

export interface LoadedManifest {
  spec: ManifestSpec;
  /** The ownership value: the manifest's absolute path, or `stdin:<project>`. */
  owner: string;
}

/** Read `-f FILE` (or `-` for stdin), validate against the templates corrald has, finish env. */
export async function loadManifest(file: string, client: CorralClient | undefined, opts: { project?: string; env?: NodeJS.ProcessEnv; stdin?: () => string } = {}): Promise<LoadedManifest> {
  let text: string;
  let name: string;
  if (file === '-') {
    if (!opts.project) throw new ValidationError('-f -: name the manifest with --project NAME (it labels what apply creates)');
    text = (opts.stdin ?? (() => readFileSync(0, 'utf8')))();
    name = '<stdin>';
  } else {
    name = resolve(file);
    try {
      text = readFileSync(name, 'utf8');
    } catch (err) {
      throw new ValidationError(`-f ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  // Ready templates and recipes that build on first use are there; other recipes need a build.
  const list = client ? await client.templates() : undefined;
  const templates = list?.filter((t) => t.status === 'ready' || (t.status === 'recipe' && t.autoBuild)).map((t) => t.name);
  const unbuilt = list?.filter((t) => t.status === 'recipe' && !t.autoBuild).map((t) => t.name);
  // Loaded here, not at start-up: the parser (yaml, cgroup limits) is most of the CLI's modules.
  const { containerConfigHash, parseManifest } = await import('../../manifest/index.js');
  const spec = parseManifest(text, name, { ...(templates ? { templates, unbuilt: unbuilt ?? [] } : {}), ...(file !== '-' ? { baseDir: resolve(name, '..') } : {}) });
  const owner = file === '-' ? `stdin:${opts.project}` : opts.project ? `project:${opts.project}` : name;
  for (const c of spec.containers) finish(c, owner, opts.env ?? process.env, containerConfigHash);
  return { spec, owner };
}

/** Env files and inherited variables are read here (the parser stays pure); then the labels. */
function finish(c: ManifestContainer, owner: string, env: NodeJS.ProcessEnv, containerConfigHash: (c: ManifestContainer) => string): void {
  const fromFiles = buildEnv(c.inheritEnv, c.envFiles, env);
  if (fromFiles.length > 0 || c.request.env) c.request.env = [...fromFiles, ...(c.request.env ?? [])];
  // Hashed with the env read above and before the ownership labels are added.
  const hash = containerConfigHash(c);
  c.configHash = hash;
  c.request.labels = { ...c.request.labels, [LABEL_MANIFEST]: owner, [LABEL_HASH]: hash };
}
