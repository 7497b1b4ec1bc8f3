import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkManifest, formatIssue } from '../../../src/manifest/index.js';
import { limitsFromFlags } from '../../../src/runtime/limits.js';
import { configFromRequest } from '../../../src/runtime/spec.js';

const root = join(import.meta.dirname, '../../..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join('examples', f));

describe('examples/', () => {
  it('holds the stack, the batch job and the crash loop', () => {
    expect(examples.sort()).toEqual(['examples/batch-job.yaml', 'examples/crash-loop.yaml', 'examples/web-stack.yaml']);
  });

  it.each(examples)('%s is valid, without warnings, and names the schema for editors', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const r = checkManifest(text, file, { templates: ['busybox'] });
    expect([...r.errors, ...r.warnings].map(formatIssue)).toEqual([]);
    expect(text.startsWith('# yaml-language-server: $schema=../docs/manifest.schema.json\n')).toBe(true);
  });

  it.each(examples)('%s gives requests corrald accepts', async (file) => {
    const spec = checkManifest(readFileSync(join(root, file), 'utf8'), file).spec!;
    for (const c of spec.containers) {
      const config = configFromRequest(c.request);
      expect(config.name).toBe(c.name);
      const { oomScoreAdj: _, ...flags } = c.request.limits ?? {};
      await expect(limitsFromFlags(flags, { cpus: 4, mems: '0' })).resolves.toBeDefined();
    }
  });

  it('the web stack starts db, then api, then web', () => {
    const spec = checkManifest(readFileSync(join(root, 'examples/web-stack.yaml'), 'utf8'), 'web-stack.yaml').spec!;
    expect(spec.startLevels).toEqual([['db'], ['api'], ['web']]);
    expect(spec.containers.map((c) => [c.name, c.restart.name, c.request.restart])).toEqual([
      ['db', 'unless-stopped', 'unless-stopped'],
      ['api', 'on-failure', 'on-failure:5'],
      ['web', 'always', 'always'],
    ]);
  });

  it('the example in docs/manifest.md is valid', () => {
    const doc = readFileSync(join(root, 'docs/manifest.md'), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const r = checkManifest(block, 'docs/manifest.md');
    expect(r.errors.map(formatIssue)).toEqual([]);
    expect(r.spec!.containers.map((c) => c.name)).toEqual(['db', 'web']);
  });
});
