import { Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { templateTable, toJson } from '../output.js';

export interface TemplateLsRequest {
  format: 'table' | 'json';
  quiet: boolean;
}

export function registerTemplateLs(template: Command, dispatch: (req: TemplateLsRequest) => Promise<void>): void {
  template
    .command('ls')
    .alias('list')
    .description('list templates: source, own size, size shared with the parent, containers using it; recipes not built yet; invalid directories with the reason')
    .option('-q, --quiet', 'only print the names of ready templates')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((o: { format: 'table' | 'json'; quiet?: boolean }) => dispatch({ format: o.format, quiet: o.quiet === true }));
}

export async function templateLs(ctx: Context, req: TemplateLsRequest): Promise<number> {
  const list = await (await ctx.client()).templates();
  if (req.quiet) ctx.out(list.filter((t) => t.status === 'ready').map((t) => `${t.name}\n`).join(''));
  else ctx.out(req.format === 'json' ? toJson(list) : templateTable(list));
  return 0;
}
