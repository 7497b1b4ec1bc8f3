import type { Command } from 'commander';
import type { RestoreResult } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import { uploadArchive } from '../../client/template-import.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { openArchive } from './template-import.js';

const EXAMPLES = [
  'corral restore web.backup',
  'corral restore web.backup --name web2 --start',
  'corral restore web.backup web-incr.backup',
  'ssh host1 corral backup web -o - | corral restore - --start',
];

export interface RestoreCommandRequest {
  files: string[];
  name?: string;
  start: boolean;
  /** Apply incrementals onto this existing container (restored from their base). */
  onto?: string;
  /** Recreate the backup's binds of host paths (refused by default: the archive is untrusted). */
  allowHostBinds?: boolean;
}

export function registerRestore(program: Command, dispatch: (req: RestoreCommandRequest) => Promise<void>): void {
  const cmd = program
    .command('restore')
    .description('recreate a container from a backup (then each incremental given after it, in order); checksums verified, nothing left behind when refused')
    .argument('<file...>', 'the backup, or - for stdin; incrementals follow their base')
    .option('--name <name>', 'the container name (default: the one in the backup)')
    .option('--start', 'start the container once restored', false)
    .option('--onto <container>', 'apply incremental backups onto this stopped container, restored from their base')
    .option('--allow-host-binds', 'recreate bind mounts of host paths the backup names (-v /srv:/data); refused by default', false)
    .action((files: string[], o: { name?: string; start: boolean; onto?: string; allowHostBinds: boolean }) =>
      dispatch({ files, start: o.start, ...(o.allowHostBinds ? { allowHostBinds: true } : {}), ...(o.name !== undefined ? { name: o.name } : {}), ...(o.onto !== undefined ? { onto: o.onto } : {}) }),
    );
  withExamples(cmd, EXAMPLES);
}

export async function restore(ctx: Context, req: RestoreCommandRequest): Promise<number> {
  if (req.files.filter((f) => f === '-').length > 1) throw new ValidationError('restore: stdin (-) can be given once');
  const client = await ctx.client();
  if (req.onto !== undefined) {
    if (req.name) throw new ValidationError('restore --onto: the container keeps its name (no --name)');
    for (const [i, file] of req.files.entries()) {
      const q = new URLSearchParams({ onto: req.onto });
      if (req.start && i === req.files.length - 1) q.set('start', 'true');
      report(ctx, await uploadArchive<RestoreResult>(client.socketPath, `/v1/restore?${q}`, await openArchive(ctx, file, false)));
    }
    ctx.out(`${req.onto}\n`);
    return 0;
  }
  const [base, ...incrementals] = req.files;
  const q = new URLSearchParams();
  if (req.name) q.set('name', req.name);
  if (req.allowHostBinds) q.set('allowHostBinds', 'true');
  if (req.start && incrementals.length === 0) q.set('start', 'true');
  const r = await uploadArchive<RestoreResult>(client.socketPath, `/v1/restore?${q}`, await openArchive(ctx, base!, false));
  report(ctx, r);
  try {
    for (const file of incrementals) {
      const onto = new URLSearchParams({ onto: r.id });
      report(ctx, await uploadArchive<RestoreResult>(client.socketPath, `/v1/restore?${onto}`, await openArchive(ctx, file, false)));
    }
  } catch (err) {
    // A chain that cannot be applied whole leaves nothing: the container made from its base goes.
    await client.remove(r.id, { force: true }).catch(() => {});
    throw err;
  }
  if (req.start && incrementals.length > 0) await client.start(r.id);
  ctx.out(`${r.name}\n`);
  return 0;
}

function report(ctx: Context, r: RestoreResult): void {
  for (const w of r.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
  if (r.templateImported) ctx.io.stderr.write(`Imported template ${r.templateImported} from the backup\n`);
  ctx.io.stderr.write(`Restored ${r.name} (${r.id.slice(0, 12)}) from ${r.kind} backup ${r.backupId} (${r.entries} entries, ${r.bytes} bytes)${r.started ? ', started' : ''}\n`);
}
