import { Option, type Command } from 'commander';
import type { ContainerInspect } from '../../api/types.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { inspectItem } from '../format/contexts.js';
import { formatOption, renderTemplate, type FormatSpec } from '../format/format.js';
import { toJson } from '../output.js';

export interface InspectRequest {
  refs: string[];
  format?: FormatSpec<'json'>;
}

export function registerInspect(program: Command, dispatch: (req: InspectRequest) => Promise<void>): void {
  const cmd = program
    .command('inspect')
    .description('show containers\' configuration and state as a JSON array, or through a Go template')
    .argument('<container...>')
    .addOption(new Option('-f, --format <format>', 'json, or a Go template such as \'{{.State.Status}}\' (one line per container)').argParser(formatOption(['json'] as const)))
    .action((refs: string[], o: { format?: FormatSpec<'json'> }) => dispatch({ refs, ...(o.format && o.format.kind !== 'json' ? { format: o.format } : {}) }));
  withExamples(cmd, ['corral inspect web', "corral inspect -f '{{.State.Status}} {{.State.Pid}}' web", "corral inspect -f '{{json .Config.Env}}' web"]);
}

/** Like `docker inspect`: the array of those found, an error line for each that is not; 1 if any. */
export async function inspect(ctx: Context, req: InspectRequest): Promise<number> {
  const client = await ctx.client();
  const found: ContainerInspect[] = [];
  const errors: unknown[] = [];
  for (const ref of req.refs) {
    try {
      found.push(await client.inspect(ref));
    } catch (err) {
      errors.push(err);
    }
  }
  if (req.format?.kind === 'template') ctx.out(renderTemplate({ template: req.format.template, table: false }, found.map(inspectItem), { what: 'a container', headers: {} }));
  else ctx.out(toJson(found));
  errors.forEach((e) => ctx.warn(e));
  return errors.length > 0 ? 1 : 0;
}
