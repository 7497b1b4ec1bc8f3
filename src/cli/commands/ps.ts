import { Option, type Command } from 'commander';
import { shortId } from '../../util/names.js';
import type { Context } from '../context.js';
import { psItem, PS_FIELDS } from '../format/contexts.js';
import { formatOption, renderTemplate, type FormatSpec } from '../format/format.js';
import { nonNegativeInt } from '../options.js';
import { containerTable, toJson } from '../output.js';
import { collectFilter, matchesFilters, type PsFilters } from './ps-filter.js';
import { withExamples } from '../examples.js';

export interface PsRequest {
  all: boolean;
  quiet: boolean;
  format: FormatSpec<'table' | 'json'>;
  filters: PsFilters;
  noTrunc: boolean;
  /** -n N / -l: the N last created containers, whatever their state. */
  last?: number;
}

export function registerPs(program: Command, dispatch: (req: PsRequest) => Promise<void>): void {
  const cmd = program
    .command('ps')
    .description('list containers (running ones unless -a)')
    .option('-a, --all', 'include stopped and created containers')
    .option('-q, --quiet', 'only print ids')
    .option('-f, --filter <key=value>', 'id, name (a regular expression), label (K or K=V), status, ancestor or template, exited, network; repeatable: same key ORs, different keys AND', collectFilter)
    .option('--no-trunc', 'full ids and commands')
    .option('-n, --last <n>', 'the N last created containers (any state)', nonNegativeInt)
    .option('-l, --latest', 'the last created container (any state)')
    .addOption(new Option('--format <format>', 'table, json, or a Go template (\'{{.Names}}\', \'table {{.ID}}\\t{{.Status}}\')').argParser(formatOption(['table', 'json'] as const)).default({ kind: 'table' }, 'table'))
    .action((o: { all?: boolean; quiet?: boolean; filter?: PsFilters; trunc: boolean; last?: number; latest?: boolean; format: FormatSpec<'table' | 'json'> }) =>
      dispatch({
        all: o.all === true,
        quiet: o.quiet === true,
        format: o.format,
        filters: o.filter ?? {},
        noTrunc: !o.trunc,
        ...(o.latest ? { last: 1 } : o.last !== undefined ? { last: o.last } : {}),
      }),
    );
  withExamples(cmd, [
    'corral ps -a',
    "corral ps --filter status=exited --filter label=app=web -q",
    "corral ps --format 'table {{.ID}}\\t{{.Names}}\\t{{.Status}}'",
    'corral ps -l --no-trunc',
  ]);
}

export async function ps(ctx: Context, req: PsRequest): Promise<number> {
  const filtered = Object.keys(req.filters).length > 0;
  // As Docker: -n/-l and a status filter look at every container, not only running ones.
  const all = req.all || req.last !== undefined || req.filters.status !== undefined || req.filters.exited !== undefined;
  let list = (await (await ctx.client()).list({ all })).filter((c) => !filtered || matchesFilters(c, req.filters));
  // The list comes newest first.
  if (req.last !== undefined) list = list.filter((c) => c.status !== 'broken').slice(0, req.last);
  if (req.quiet) ctx.out(list.map((c) => `${req.noTrunc ? c.id : shortId(c.id)}\n`).join(''));
  else if (req.format.kind === 'json') ctx.out(toJson(list));
  else if (req.format.kind === 'template') ctx.out(renderTemplate(req.format, list.map((c) => psItem(c, req.noTrunc)), PS_FIELDS));
  else ctx.out(containerTable(list, Date.now(), req.noTrunc));
  return 0;
}
