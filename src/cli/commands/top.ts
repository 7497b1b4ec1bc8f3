import { Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { formatTable, toJson } from '../output.js';

export interface TopRequest {
  ref: string;
  psArgs: string[];
  format: 'table' | 'json';
}

export function registerTop(program: Command, dispatch: (req: TopRequest) => Promise<void>): void {
  const cmd = program
    .command('top')
    .description("the container's processes (PID USER TIME CMD; with ps options, the host's ps cut to the container)")
    .argument('<container>')
    .argument('[ps-options...]', "options for the host's ps, after the container (e.g. -o pid,stat,args)")
    .addOption(new Option('--format <format>', 'output format (before the container)').choices(['table', 'json']).default('table'))
    .passThroughOptions()
    .action((ref: string, psArgs: string[], o: { format: 'table' | 'json' }) => dispatch({ ref, psArgs, format: o.format }));
  withExamples(cmd, ['corral top web', 'corral top web -o pid,stat,rss,args', 'corral top --format json web']);
}

export async function top(ctx: Context, req: TopRequest): Promise<number> {
  const t = await (await ctx.client()).top(req.ref, req.psArgs);
  ctx.out(req.format === 'json' ? toJson(t) : formatTable(t.titles, t.processes));
  return 0;
}
