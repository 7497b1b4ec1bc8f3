import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/architecture.md, "Source layout": a module imports only modules above it in the table, and
 * `cli` and `daemon` never import each other. The order is read from the document itself, so the
 * table and the code cannot drift apart. Type-only imports count: they tie a module to another's
 * declarations just the same (the document says so).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/**
 * Imports allowed against the table, as `from-file -> to-file` (paths below src/). Each needs a
 * reason; keep it empty.
 */
const ALLOWED = new Set<string>([]);

/** Module names in table order: `src/errors.ts` → errors, `src/util/` → util. */
function tableOrder(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Source layout'));
  const table = section.slice(0, section.indexOf('\n## '));
  return [...table.matchAll(/^\| `src\/([a-z-]+)(?:\.ts|\/)` \|/gm)].map((m) => m[1]!);
}

/** The module a file belongs to: its first path component below src/, without `.ts`. */
const moduleOf = (file: string): string => relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative specifiers of static imports and re-exports (type-only ones included), side-effect and dynamic imports. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*'([^']+)'/gms)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s*'([^']+)'/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('.'));
}

interface Edge {
  from: string;
  to: string;
  fromModule: string;
  toModule: string;
}

function crossModuleImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      const fromModule = moduleOf(file);
      const toModule = moduleOf(target);
      if (fromModule !== toModule) edges.push({ from: relative(SRC, file), to: relative(SRC, target), fromModule, toModule });
    }
  }
  return edges;
}

/** The imports that break the rule, as `from -> to (fromModule imports toModule, below it)`. */
function violations(order: readonly string[], edges: readonly Edge[]): string[] {
  const rank = new Map(order.map((m, i) => [m, i]));
  const out: string[] = [];
  for (const e of edges) {
    const a = rank.get(e.fromModule);
    const b = rank.get(e.toModule);
    let why: string | undefined;
    if (a === undefined || b === undefined) why = `${a === undefined ? e.fromModule : e.toModule} is not in the table`;
    else if (b > a) why = `${e.fromModule} imports ${e.toModule}, which is below it`;
    else if ((e.fromModule === 'cli' && e.toModule === 'daemon') || (e.fromModule === 'daemon' && e.toModule === 'cli')) why = 'cli and daemon never import each other';
    if (why && !ALLOWED.has(`${e.from} -> ${e.to}`)) out.push(`${e.from} -> ${e.to}: ${why}`);
  }
  return out;
}

describe('layering (docs/architecture.md, Source layout)', () => {
  const order = tableOrder();

  it('reads the table: every module under src/ is in it, once', () => {
    expect(order.slice(0, 3)).toEqual(['errors', 'config', 'api']);
    expect(new Set(order).size).toBe(order.length);
    const present = [...new Set(readdirSync(SRC).map((n) => n.replace(/\.ts$/, '')))].sort();
    expect(present).toEqual([...order].sort());
  });

  it('finds every kind of import, type-only ones included', () => {
    const text = [
      "import type { A } from '../api/types.js';",
      "import {\n  b,\n  type C,\n} from './local.js';",
      "export { d } from '../cgroups/limits.js';",
      "export type { E } from '../runtime/x.js';",
      "import '../system/side-effect.js';",
      "const f = await import('../network/lazy.js');",
      "import { g } from 'node:fs';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['../api/types.js', './local.js', '../cgroups/limits.js', '../runtime/x.js', '../system/side-effect.js', '../network/lazy.js']);
  });

  it('catches an import of a module below, a cli-daemon import and a module missing from the table', () => {
    const edge = (fromModule: string, toModule: string): Edge => ({ from: `${fromModule}/a.ts`, to: `${toModule}/b.ts`, fromModule, toModule });
    const order3 = ['errors', 'util', 'daemon', 'cli'];
    expect(violations(order3, [edge('util', 'errors'), edge('cli', 'util')])).toEqual([]);
    expect(violations(order3, [edge('util', 'daemon')])).toEqual(['util/a.ts -> daemon/b.ts: util imports daemon, which is below it']);
    expect(violations(order3, [edge('cli', 'daemon')])).toEqual(['cli/a.ts -> daemon/b.ts: cli and daemon never import each other']);
    expect(violations(order3, [edge('util', 'nowhere')])).toEqual(['util/a.ts -> nowhere/b.ts: nowhere is not in the table']);
  });

  it('holds for every import in src/', () => {
    const edges = crossModuleImports();
    expect(edges.length).toBeGreaterThan(100);
    expect(violations(order, edges)).toEqual([]);
  });
});
