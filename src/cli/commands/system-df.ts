import { Option, type Command } from 'commander';
import type { DiskUsage } from '../../api/types.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { formatTable, humanSize, toJson } from '../output.js';

export interface SystemDfRequest {
  verbose: boolean;
  format: 'table' | 'json';
}

/** `corral system df` (Docker's `system` group). */
export function registerSystemDf(program: Command, dispatch: (req: SystemDfRequest) => Promise<void>): void {
  const group = program.commands.find((c) => c.name() === 'system') ?? program.command('system').description("Docker's system group: df");
  const cmd = group
    .command('df')
    .description('disk space used by templates, containers and volumes')
    .option('-v, --verbose', 'one line per template, container and volume')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((o: { verbose?: boolean; format: 'table' | 'json' }) => dispatch({ verbose: o.verbose === true, format: o.format }));
  withExamples(cmd, ['corral system df', 'corral system df -v', 'corral system df --format json']);
}

export async function systemDf(ctx: Context, req: SystemDfRequest): Promise<number> {
  const du = await (await ctx.client()).diskUsage();
  if (req.format === 'json') ctx.out(toJson(du));
  else ctx.out(req.verbose ? verboseTables(du) : dfTable(du));
  return 0;
}

const ACTIVE = new Set(['running', 'paused', 'restarting']);

/** Docker's summary: TYPE TOTAL ACTIVE SIZE RECLAIMABLE, reclaimable with its share in percent. */
export function dfTable(du: DiskUsage): string {
  const reclaim = (part: number, total: number): string => (total > 0 ? `${humanSize(part)} (${Math.floor((100 * part) / total)}%)` : humanSize(part));
  const tSize = du.templates.reduce((n, t) => n + t.size, 0);
  const tFree = du.templates.filter((t) => t.containers === 0).reduce((n, t) => n + t.size, 0);
  const cSize = du.containers.reduce((n, c) => n + c.size, 0);
  const cFree = du.containers.filter((c) => !ACTIVE.has(c.status)).reduce((n, c) => n + c.size, 0);
  const activeNames = new Set(du.containers.filter((c) => ACTIVE.has(c.status)).map((c) => c.name));
  return formatTable(
    ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
    [
      ['Templates', String(du.templates.length), String(du.templates.filter((t) => t.containers > 0).length), humanSize(tSize), reclaim(tFree, tSize)],
      ['Containers', String(du.containers.length), String(activeNames.size), humanSize(cSize), reclaim(cFree, cSize)],
      // Host directories: their size is the host's business (du), not Corral's.
      ['Volumes', String(du.volumes.length), String(du.volumes.filter((v) => v.containers.some((n) => activeNames.has(n))).length), '-', '-'],
    ],
  );
}

function verboseTables(du: DiskUsage): string {
  return [
    'Templates space usage:\n\n' + formatTable(['TEMPLATE', 'CONTAINERS', 'SIZE'], du.templates.map((t) => [t.name, String(t.containers), humanSize(t.size)])),
    'Containers space usage:\n\n' + formatTable(['CONTAINER ID', 'TEMPLATE', 'STATUS', 'SIZE', 'NAMES'], du.containers.map((c) => [c.id.slice(0, 12), c.template, c.status, humanSize(c.size), c.name])),
    'Volumes (host directories bound in):\n\n' + formatTable(['SOURCE', 'TARGET', 'CONTAINERS'], du.volumes.map((v) => [v.source, v.target, v.containers.join(',')])),
  ].join('\n');
}
