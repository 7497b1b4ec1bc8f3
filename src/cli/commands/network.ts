import { Option, type Command } from 'commander';
import type { NetworkInspect } from '../../api/types.js';
import type { Context } from '../context.js';
import { networkItem, NETWORK_FIELDS } from '../format/contexts.js';
import { formatOption, renderTemplate, type FormatSpec } from '../format/format.js';
import { networkTable, toJson } from '../output.js';

export interface NetworkCreateCommandRequest {
  name: string;
  subnet?: string;
}
export interface NetworkLsRequest {
  format: FormatSpec<'table' | 'json'>;
  quiet: boolean;
}
export interface NetworkInspectRequest {
  names: string[];
}
export interface NetworkRmRequest {
  names: string[];
}

export interface NetworkDispatch {
  create: (req: NetworkCreateCommandRequest) => Promise<void>;
  ls: (req: NetworkLsRequest) => Promise<void>;
  inspect: (req: NetworkInspectRequest) => Promise<void>;
  rm: (req: NetworkRmRequest) => Promise<void>;
}

/** `corral network create|ls|inspect|rm`, as `docker network`. */
export function registerNetwork(program: Command, dispatch: NetworkDispatch): void {
  const network = program.command('network').description('manage networks');
  network
    .command('create')
    .description('create a bridge network; containers on different networks cannot reach each other')
    .argument('<name>')
    .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.89.0.0/16 (default: a free one)')
    .action((name: string, o: { subnet?: string }) => dispatch.create({ name, ...(o.subnet !== undefined ? { subnet: o.subnet } : {}) }));
  network
    .command('ls')
    .alias('list')
    .description('list networks')
    .option('-q, --quiet', 'only print names')
    .addOption(new Option('--format <format>', 'table, json, or a Go template (\'{{.Name}}\', \'table {{.Name}}\\t{{.Subnet}}\')').argParser(formatOption(['table', 'json'] as const)).default({ kind: 'table' }, 'table'))
    .action((o: { format: FormatSpec<'table' | 'json'>; quiet?: boolean }) => dispatch.ls({ format: o.format, quiet: o.quiet === true }));
  network
    .command('inspect')
    .description("show networks as a JSON array: subnet, bridge, table, attached containers, published ports")
    .argument('<name...>')
    .action((names: string[]) => dispatch.inspect({ names }));
  network
    .command('rm')
    .alias('remove')
    .description('remove networks; refused while a container (running or not) is configured with one')
    .argument('<name...>')
    .action((names: string[]) => dispatch.rm({ names }));
}

export async function networkCreate(ctx: Context, req: NetworkCreateCommandRequest): Promise<number> {
  const n = await (await ctx.client()).networkCreate(req.subnet !== undefined ? { name: req.name, subnet: req.subnet } : { name: req.name });
  ctx.out(`${n.name}\n`);
  return 0;
}

export async function networkLs(ctx: Context, req: NetworkLsRequest): Promise<number> {
  const list = await (await ctx.client()).networks();
  if (req.quiet) ctx.out(list.map((n) => `${n.name}\n`).join(''));
  else if (req.format.kind === 'template') ctx.out(renderTemplate(req.format, list.map(networkItem), NETWORK_FIELDS));
  else ctx.out(req.format.kind === 'json' ? toJson(list) : networkTable(list));
  return 0;
}

export async function networkInspect(ctx: Context, req: NetworkInspectRequest): Promise<number> {
  const client = await ctx.client();
  const found: NetworkInspect[] = [];
  const errors: unknown[] = [];
  for (const name of req.names) {
    try {
      found.push(await client.networkInspect(name));
    } catch (err) {
      errors.push(err);
    }
  }
  ctx.out(toJson(found));
  errors.forEach((e) => ctx.warn(e));
  return errors.length > 0 ? 1 : 0;
}

export async function networkRm(ctx: Context, req: NetworkRmRequest): Promise<number> {
  const client = await ctx.client();
  let failed = false;
  for (const name of req.names) {
    try {
      await client.networkRemove(name);
      ctx.out(`${name}\n`);
    } catch (err) {
      failed = true;
      ctx.warn(err);
    }
  }
  return failed ? 1 : 0;
}
