import { Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { toJson } from '../output.js';

export interface SnapshotCreateRequest {
  container: string;
  name?: string;
}
export interface SnapshotLsRequest {
  container: string;
  format: 'table' | 'json';
}
export interface SnapshotRefRequest {
  container: string;
  name: string;
}
export interface CloneCommandRequest {
  container: string;
  name: string;
  publish: string[];
}

export interface SnapshotDispatch {
  create: (req: SnapshotCreateRequest) => Promise<void>;
  ls: (req: SnapshotLsRequest) => Promise<void>;
  restore: (req: SnapshotRefRequest) => Promise<void>;
  rm: (req: SnapshotRefRequest) => Promise<void>;
}

/** `corral snapshot create|ls|restore|rm`. */
export function registerSnapshot(program: Command, dispatch: SnapshotDispatch): void {
  const snap = program.command('snapshot').description("snapshots of a container's writable layer (a running one is frozen for the copy)");
  withExamples(snap, ['corral snapshot create web before-upgrade', 'corral snapshot ls web', 'corral snapshot restore web before-upgrade', 'corral snapshot rm web before-upgrade']);
  snap
    .command('create')
    .description('copy the writable layer (cp --reflink=auto); a running container is frozen meanwhile and the time is shown')
    .argument('<container>')
    .argument('[name]', 'default: snap-<date>-<time>')
    .action((container: string, name?: string) => dispatch.create({ container, ...(name !== undefined ? { name } : {}) }));
  snap
    .command('ls')
    .alias('list')
    .description("list a container's snapshots")
    .argument('<container>')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((container: string, o: { format: 'table' | 'json' }) => dispatch.ls({ container, format: o.format }));
  snap
    .command('restore')
    .description('roll the writable layer back to a snapshot (a running container is stopped and started again)')
    .argument('<container>')
    .argument('<name>')
    .action((container: string, name: string) => dispatch.restore({ container, name }));
  snap
    .command('rm')
    .alias('remove')
    .description('remove a snapshot')
    .argument('<container>')
    .argument('<name>')
    .action((container: string, name: string) => dispatch.rm({ container, name }));
}

export function registerClone(program: Command, dispatch: (req: CloneCommandRequest) => Promise<void>): void {
  const cmd = program
    .command('clone')
    .description('a new container with the same config and files: new id, name, hostname, address, machine-id and id range; the template is shared')
    .argument('<container>')
    .argument('<name>', 'the clone\'s name')
    .option('-p, --publish <spec>', "publish a port of the clone (the original's host ports are not copied)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action((container: string, name: string, o: { publish: string[] }) => dispatch({ container, name, publish: o.publish }));
  withExamples(cmd, ['corral clone web web-test', 'corral clone web web2 -p 8081:80']);
}

export async function snapshotCreate(ctx: Context, req: SnapshotCreateRequest): Promise<number> {
  const s = await (await ctx.client()).snapshotCreate(req.container, req.name);
  ctx.out(`${s.name}\n`);
  ctx.io.stderr.write(`Snapshot ${s.name} of ${s.container}: ${s.sizeBytes} bytes${s.frozenMs > 0 ? `, frozen for ${s.frozenMs} ms` : ''}\n`);
  return 0;
}

export async function snapshotLs(ctx: Context, req: SnapshotLsRequest): Promise<number> {
  const list = await (await ctx.client()).snapshots(req.container);
  if (req.format === 'json') {
    ctx.out(toJson(list));
    return 0;
  }
  const rows = [['NAME', 'CREATED', 'SIZE', 'FROZEN'], ...list.map((s) => [s.name, s.createdAt, String(s.sizeBytes), `${s.frozenMs}ms`])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  ctx.out(rows.map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join('   ')).join('\n') + '\n');
  return 0;
}

export async function snapshotRestore(ctx: Context, req: SnapshotRefRequest): Promise<number> {
  const r = await (await ctx.client()).snapshotRestore(req.container, req.name);
  ctx.out(`${req.container}\n`);
  if (r.restarted) ctx.io.stderr.write(`${req.container} was running: stopped, rolled back and started again\n`);
  return 0;
}

export async function snapshotRm(ctx: Context, req: SnapshotRefRequest): Promise<number> {
  await (await ctx.client()).snapshotRemove(req.container, req.name);
  ctx.out(`${req.name}\n`);
  return 0;
}

export async function clone(ctx: Context, req: CloneCommandRequest): Promise<number> {
  const r = await (await ctx.client()).clone(req.container, { name: req.name, publish: req.publish });
  for (const w of r.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
  ctx.out(`${r.id}\n`);
  if (r.frozenMs > 0) ctx.io.stderr.write(`${req.container} was frozen for ${r.frozenMs} ms for the copy\n`);
  return 0;
}
