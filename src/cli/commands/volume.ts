import { Option, type Command } from 'commander';
import type { VolumeInfo } from '../../api/types.js';
import { CorralError } from '../../errors.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { parseLabels } from '../options.js';
import { formatTable, humanSize, toJson } from '../output.js';
import { readAnswer } from './container-prune.js';

export interface VolumeCreateCommandRequest {
  name?: string;
  labels: string[];
}
export interface VolumeLsRequest {
  format: 'table' | 'json';
  quiet: boolean;
}
export interface VolumeInspectRequest {
  names: string[];
}
export interface VolumeRmRequest {
  names: string[];
}
export interface VolumePruneCommandRequest {
  force: boolean;
  format: 'text' | 'json';
}

export interface VolumeDispatch {
  create: (req: VolumeCreateCommandRequest) => Promise<void>;
  ls: (req: VolumeLsRequest) => Promise<void>;
  inspect: (req: VolumeInspectRequest) => Promise<void>;
  rm: (req: VolumeRmRequest) => Promise<void>;
  prune: (req: VolumePruneCommandRequest) => Promise<void>;
}

/** `corral volume create|ls|inspect|rm|prune`, as `docker volume`. */
export function registerVolume(program: Command, dispatch: VolumeDispatch): void {
  const volume = program.command('volume').description('manage named volumes (directories of corrald\'s own that containers mount with -v NAME:/path)');
  const create = volume
    .command('create')
    .description('create a volume (without a name: a random one); an existing one is left as is')
    .argument('[name]')
    .option('-l, --label <K=V>', 'set a label (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .action((name: string | undefined, o: { label?: string[] }) => dispatch.create({ ...(name !== undefined ? { name } : {}), labels: o.label ?? [] }));
  withExamples(create, ['corral volume create data', 'corral run -d -v data:/var/lib/app busybox sleep 1d']);
  volume
    .command('ls')
    .alias('list')
    .description('list volumes and the containers that use them')
    .option('-q, --quiet', 'only print names')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((o: { format: 'table' | 'json'; quiet?: boolean }) => dispatch.ls({ format: o.format, quiet: o.quiet === true }));
  volume
    .command('inspect')
    .description('show volumes as a JSON array: mount point, labels, size, containers using them')
    .argument('<name...>')
    .addOption(new Option('--format <format>', 'output format').choices(['json']).default('json'))
    .action((names: string[]) => dispatch.inspect({ names }));
  volume
    .command('rm')
    .alias('remove')
    .description('remove volumes and their files; refused while a container (running or not) uses one')
    .argument('<name...>')
    .option('-f, --force', 'accepted for Docker\'s sake: a volume in use is never removed')
    .action((names: string[]) => dispatch.rm({ names }));
  volume
    .command('prune')
    .description('remove every volume no container uses')
    .option('-f, --force', 'do not ask for confirmation')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o: { force?: boolean; format: 'text' | 'json' }) => dispatch.prune({ force: o.force === true, format: o.format }));
}

export async function volumeCreate(ctx: Context, req: VolumeCreateCommandRequest): Promise<number> {
  const v = await (await ctx.client()).volumeCreate({ ...(req.name !== undefined ? { name: req.name } : {}), ...(req.labels.length > 0 ? { labels: parseLabels(req.labels) } : {}) });
  ctx.out(`${v.name}\n`);
  return 0;
}

export async function volumeLs(ctx: Context, req: VolumeLsRequest): Promise<number> {
  const list = await (await ctx.client()).volumes();
  if (req.quiet) ctx.out(list.map((v) => `${v.name}\n`).join(''));
  else ctx.out(req.format === 'json' ? toJson(list) : volumeTable(list));
  return 0;
}

export function volumeTable(list: readonly VolumeInfo[]): string {
  return formatTable(['DRIVER', 'VOLUME NAME', 'CONTAINERS'], list.map((v) => ['local', v.name, v.usedBy.join(',') || '-']));
}

export async function volumeInspect(ctx: Context, req: VolumeInspectRequest): Promise<number> {
  const client = await ctx.client();
  const found: VolumeInfo[] = [];
  let failed = false;
  for (const name of req.names) {
    try {
      found.push(await client.volumeInspect(name));
    } catch (err) {
      failed = true;
      ctx.warn(err);
    }
  }
  ctx.out(toJson(found));
  return failed ? 1 : 0;
}

export async function volumeRm(ctx: Context, req: VolumeRmRequest): Promise<number> {
  const client = await ctx.client();
  let failed = false;
  for (const name of req.names) {
    try {
      await client.volumeRemove(name);
      ctx.out(`${name}\n`);
    } catch (err) {
      failed = true;
      ctx.warn(err);
    }
  }
  return failed ? 1 : 0;
}

export async function volumePrune(ctx: Context, req: VolumePruneCommandRequest): Promise<number> {
  if (!req.force) {
    ctx.out('WARNING! This will remove all volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    const answer = await readAnswer(ctx.io.stdin);
    if (answer === null) {
      ctx.out('\n');
      throw new CorralError('validation', 'volume prune: no confirmation on stdin: nothing removed (use -f to skip the question)');
    }
    if (!/^y(es)?$/i.test(answer.trim())) return 0;
  }
  const report = await (await ctx.client()).volumePrune();
  if (req.format === 'json') ctx.out(toJson(report));
  else ctx.out(`${report.removed.length > 0 ? `Deleted Volumes:\n${report.removed.map((n) => `${n}\n`).join('')}\n` : ''}Total reclaimed space: ${humanSize(report.spaceReclaimed)}\n`);
  return 0;
}
