import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.js';

const sink = { write: () => true } as unknown as NodeJS.WriteStream;

describe('docs/cli.md', () => {
  it('names every verb (corral VERB) and every long flag', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/cli.md'), 'utf8');
    const missing: string[] = [];
    const walk = (cmd: Command, path: string[]): void => {
      for (const sub of cmd.commands as Command[]) {
        const p = [...path, sub.name()];
        if (!doc.includes(`corral ${p.join(' ')}`)) missing.push(`verb: corral ${p.join(' ')}`);
        for (const o of sub.options as readonly Option[]) if (o.long && !doc.includes(o.long)) missing.push(`flag: corral ${p.join(' ')} ${o.long}`);
        walk(sub, p);
      }
    };
    walk(buildProgram(async () => {}, { stdout: sink, stderr: sink }), []);
    expect(missing).toEqual([]);
  });
});
