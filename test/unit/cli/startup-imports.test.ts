import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every `corral` invocation evaluates what src/cli/main.ts reaches through static imports, so
 * `corral ps` should not pay for the manifest parser (yaml), the host probes (execa) or the cgroup
 * controllers: those load with `import()` inside the commands that use them. Before this rule the
 * CLI opened 379 modules for `--version`; after, about 100 (issue 15).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SRC = join(ROOT, 'src');

/** Packages and source directories that must stay out of the start-up graph. */
const HEAVY_PACKAGES = ['yaml', 'execa'];
const HEAVY_DIRS = ['cgroups/', 'daemon/', 'network/', 'rootfs/', 'system/'];
const HEAVY_FILES = ['manifest/index.ts', 'manifest/parse.ts', 'manifest/explain.ts'];

/** Value imports only: `import type` is erased and costs nothing at run time. */
function staticImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+([^;]*?)\s+from\s*'([^']+)'/gms)) {
    if (/^type\s/.test(m[2]!)) continue;
    out.push(m[3]!);
  }
  for (const m of text.matchAll(/^\s*import\s*'([^']+)'/gm)) out.push(m[1]!);
  return out;
}

/** The start-up graph: file (below src/) → the file that first imported it. */
function startupGraph(): { files: Map<string, string | null>; packages: Map<string, string> } {
  const files = new Map<string, string | null>([['cli/main.ts', null]]);
  const packages = new Map<string, string>();
  const queue = ['cli/main.ts'];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const spec of staticImports(readFileSync(join(SRC, file), 'utf8'))) {
      if (!spec.startsWith('.')) {
        if (!spec.startsWith('node:') && !packages.has(spec)) packages.set(spec, file);
        continue;
      }
      const target = relative(SRC, resolve(dirname(join(SRC, file)), spec)).replace(/\.js$/, '.ts');
      if (files.has(target)) continue;
      files.set(target, file);
      queue.push(target);
    }
  }
  return { files, packages };
}

const chain = (files: Map<string, string | null>, f: string): string => {
  const out = [f];
  for (let p = files.get(f); p; p = files.get(p)) out.push(p);
  return out.join(' <- ');
};

describe('the CLI start-up graph', () => {
  const { files, packages } = startupGraph();

  it('reaches neither yaml nor execa', () => {
    const found = HEAVY_PACKAGES.filter((p) => packages.has(p)).map((p) => `${p} <- ${chain(files, packages.get(p)!)}`);
    expect(found).toEqual([]);
  });

  it('reaches no cgroup, daemon, network, rootfs or host-probe module, nor the manifest parser', () => {
    const found = [...files.keys()].filter((f) => HEAVY_DIRS.some((d) => f.startsWith(d)) || HEAVY_FILES.includes(f)).map((f) => chain(files, f));
    expect(found).toEqual([]);
  });

  it('is walked from the real entry point (the check itself sees the commands)', () => {
    expect(files.has('cli/program.ts')).toBe(true);
    expect(files.has('cli/commands/run.ts')).toBe(true);
    expect(packages.has('commander')).toBe(true);
  });
});
