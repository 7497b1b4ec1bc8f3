import { Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { templateTable, toJson } from '../output.js';

export interface TemplateLsRequest {
  format: 'table' | 'json';
}

export function registerTemplate(program: Command, dispatch: (req: TemplateLsRequest) => Promise<void>): void {
  const template = program.command('template').description('manage templates');
  template
    .command('ls')
    .alias('list')
    .description('list templates')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((o: { format: 'table' | 'json' }) => dispatch({ format: o.format }));
}

export async function templateLs(ctx: Context, req: TemplateLsRequest): Promise<number> {
  const list = await (await ctx.client()).templates();
  ctx.out(req.format === 'json' ? toJson(list) : templateTable(list));
  return 0;
}
