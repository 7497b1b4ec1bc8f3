import { Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { toJson } from '../output.js';

export interface DiffRequest {
  ref: string;
  format: 'text' | 'json';
}

export function registerDiff(program: Command, dispatch: (req: DiffRequest) => Promise<void>): void {
  const cmd = program
    .command('diff')
    .description("what the container changed in its filesystem: A added, C changed, D deleted")
    .argument('<container>')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((ref: string, o: { format: 'text' | 'json' }) => dispatch({ ref, format: o.format }));
  withExamples(cmd, ['corral diff web', 'corral diff --format json web']);
}

/** Docker's lines: `C /etc`, `A /etc/app.conf`, `D /usr/share/doc`. */
export async function diff(ctx: Context, req: DiffRequest): Promise<number> {
  const changes = await (await ctx.client()).changes(req.ref);
  ctx.out(req.format === 'json' ? toJson(changes) : changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
  return 0;
}
