import { dirname, resolve } from 'node:path';
import { type IssueCode, ManifestError, type ManifestIssue, type PathSegment, type Pos, formatPath, sortIssues } from './issues.js';
import { type CompiledSchema, manifestSchema } from './schema.js';
import { validateSchema } from './validate.js';
import { type ManifestSpec, buildContainer, dependencies, manifestHash } from './spec.js';
import { startLevels } from './graph.js';
import { UnitError } from './units.js';
import { type Built, type Declared, VALIDATORS, type Validator, runValidators } from './validators.js';
import { DEFAULT_READ_LIMITS, type LValue, type ReadLimits, readYaml } from './yaml-tree.js';

/**
 * A manifest file → a typed ManifestSpec, or every problem in it with `file:line:col`, the path of
 * the value and what was expected. Pure: no daemon, no filesystem (the schema file aside), no
 * environment. Reading the file, `-` for stdin, env files and inherited variables are the CLI's.
 *
 *   readYaml (size, depth, aliases, duplicate keys; yaml-tree.ts)
 *   → validateSchema against docs/manifest.schema.json (schema.ts loads it, validate.ts; formats in units.ts)
 *   → buildContainer for each container the schema passed (spec.ts)
 *   → VALIDATORS (validators.ts): names, templates, dependsOn targets and cycles, ...
 */

export interface ManifestOptions {
  /** Template names corrald knows; an unknown template is then an error. Omit to skip the check. */
  templates?: readonly string[];
  /** Recipes not built yet: a container naming one is told to `corral template build` it. */
  unbuilt?: readonly string[];
  /** What relative host paths (volumes, envFile) are relative to. Default: the manifest's directory (the current one for `-`). */
  baseDir?: string;
  /** Override the hostile-input limits (size 256 KiB, depth 64, ...); tests use this. */
  limits?: Partial<ReadLimits>;
  /** The semantic validators to run; default VALIDATORS. */
  validators?: readonly Validator[];
}

export interface ManifestCheck {
  /** Null when there are errors. */
  spec: ManifestSpec | null;
  errors: ManifestIssue[];
  warnings: ManifestIssue[];
}

/** Every problem at once; never throws for bad input (only for bugs). */
export function checkManifest(input: string | Uint8Array, file: string, options: ManifestOptions = {}): ManifestCheck {
  const issues: ManifestIssue[] = [];
  const issue = (severity: 'error' | 'warning', code: IssueCode, pos: Pos, path: PathSegment[], message: string, hint?: string) =>
    issues.push({ severity, code, file, line: pos.line, col: pos.col, path: formatPath(path), message, ...(hint ? { hint } : {}) });

  const read = readYaml(input, file, { ...DEFAULT_READ_LIMITS, ...options.limits });
  issues.push(...read.issues);
  const schema: CompiledSchema = manifestSchema();
  const baseDir = options.baseDir ?? (file === '-' || file === '' || file.startsWith('<') ? process.cwd() : dirname(resolve(file)));

  const declared: Declared[] = [];
  const built: Built[] = [];
  let documents = 0;
  read.docs.forEach((doc, n) => {
    if (!doc.root) return;
    documents++;
    const found = validateSchema(doc.root, schema);
    for (const i of found) issue('error', i.code, i.pos, i.path, i.message, i.hint);
    const containers = doc.root.kind === 'map' ? doc.root.entries.get('containers')?.value : undefined;
    if (containers?.kind !== 'map') return;
    const clean = (...path: PathSegment[]) => !found.some((i) => startsWith(i.path, path)) && !read.issues.some((i) => under(i.path, formatPath(path)));
    for (const [name, e] of containers.entries) {
      const decl: Declared = { name, doc: n, keyPos: e.keyPos, node: e.value };
      if (e.value.kind === 'map') {
        if (clean('containers', name, 'dependsOn')) decl.dependsOn = dependencies(e.value.entries.get('dependsOn')?.value);
        if (clean('containers', name, 'healthcheck')) decl.healthy = isHealthy(e.value.entries.get('healthcheck')?.value);
      }
      declared.push(decl);
      if (!clean('containers', name) || e.value.kind !== 'map') continue;
      try {
        built.push({ decl, node: e.value, container: buildContainer(name, e.value, e.keyPos, file, baseDir) });
      } catch (err) {
        if (!(err instanceof UnitError)) throw err;
        issue('error', err.code, e.keyPos, ['containers', name], err.message, err.hint);
      }
    }
  });
  if (documents === 0 && issues.length === 0) {
    issue('error', 'empty', { line: 1, col: 1, offset: 0 }, [], 'the manifest is empty', 'declare containers: with at least one container');
  }
  runValidators({ declared, built, ...(options.templates ? { templates: options.templates } : {}), ...(options.unbuilt ? { unbuilt: options.unbuilt } : {}), report: issue }, options.validators ?? VALIDATORS);

  const sorted = sortIssues(issues);
  const errors = sorted.filter((i) => i.severity === 'error');
  const warnings = sorted.filter((i) => i.severity === 'warning');
  if (errors.length > 0) return { spec: null, errors, warnings };

  // Valid: every declared container was built, names are unique and dependsOn has no cycle.
  const containers = built.map((b) => b.container);
  const edges = new Map(containers.map((c) => [c.name, c.dependsOn.map((d) => d.name)]));
  const levels = startLevels(
    containers.map((c) => c.name),
    edges,
  );
  return {
    spec: { file, containers, startOrder: levels.flat(), startLevels: levels, manifestHash: manifestHash(containers), warnings },
    errors,
    warnings,
  };
}

/** The spec, or a ManifestError listing every error in the file. */
export function parseManifest(input: string | Uint8Array, file: string, options: ManifestOptions = {}): ManifestSpec {
  const { spec, errors, warnings } = checkManifest(input, file, options);
  if (!spec) throw new ManifestError(file, errors, warnings);
  return spec;
}

function startsWith(path: readonly PathSegment[], prefix: readonly PathSegment[]): boolean {
  return prefix.every((p, i) => path[i] === p);
}

/** Whether a formatted path is `prefix` or below it. */
function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/** A healthcheck that can ever pass: present and not [NONE]. */
function isHealthy(v: LValue | undefined): boolean {
  if (v?.kind !== 'map') return false;
  const test = v.entries.get('test')?.value;
  return !(test?.kind === 'seq' && test.items[0]?.kind === 'scalar' && test.items[0].value === 'NONE');
}
