import { Option, type Command } from 'commander';
import { shortId } from '../../util/names.js';
import type { Context } from '../context.js';
import { containerTable, toJson } from '../output.js';

export interface PsRequest {
  all: boolean;
  quiet: boolean;
  format: 'table' | 'json';
}

export function registerPs(program: Command, dispatch: (req: PsRequest) => Promise<void>): void {
  program
    .command('ps')
    .description('list containers (running ones unless -a)')
    .option('-a, --all', 'include stopped and created containers')
    .option('-q, --quiet', 'only print short ids')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((o: { all?: boolean; quiet?: boolean; format: 'table' | 'json' }) =>
      dispatch({ all: o.all === true, quiet: o.quiet === true, format: o.format }),
    );
}

export async function ps(ctx: Context, req: PsRequest): Promise<number> {
  const list = await (await ctx.client()).list({ all: req.all });
  if (req.quiet) ctx.out(list.map((c) => `${shortId(c.id)}\n`).join(''));
  else if (req.format === 'json') ctx.out(toJson(list));
  else ctx.out(containerTable(list));
  return 0;
}
