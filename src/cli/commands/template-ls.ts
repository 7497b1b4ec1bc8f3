import { Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { templateItem, TEMPLATE_FIELDS } from '../format/contexts.js';
import { formatOption, renderTemplate, type FormatSpec } from '../format/format.js';
import { templateTable, toJson } from '../output.js';

export interface TemplateLsRequest {
  format: FormatSpec<'table' | 'json'>;
  quiet: boolean;
}

export function registerTemplateLs(template: Command, dispatch: (req: TemplateLsRequest) => Promise<void>): void {
  template
    .command('ls')
    .alias('list')
    .description('list templates: source, own size, size shared with the parent, containers using it; recipes not built yet; invalid directories with the reason')
    .option('-q, --quiet', 'only print the names of ready templates')
    .addOption(new Option('--format <format>', 'table, json, or a Go template (\'{{.Name}}\', \'table {{.Name}}\\t{{.Subnet}}\')').argParser(formatOption(['table', 'json'] as const)).default({ kind: 'table' }, 'table'))
    .action((o: { format: FormatSpec<'table' | 'json'>; quiet?: boolean }) => dispatch({ format: o.format, quiet: o.quiet === true }));
}

export async function templateLs(ctx: Context, req: TemplateLsRequest): Promise<number> {
  const list = await (await ctx.client()).templates();
  if (req.quiet) ctx.out(list.filter((t) => t.status === 'ready').map((t) => `${t.name}\n`).join(''));
  else if (req.format.kind === 'template') ctx.out(renderTemplate(req.format, list.map((t) => templateItem(t)), TEMPLATE_FIELDS));
  else ctx.out(req.format.kind === 'json' ? toJson(list) : templateTable(list));
  return 0;
}
