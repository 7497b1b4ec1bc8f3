import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { BackupRequest } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';

const EXAMPLES = [
  'corral backup web -o web.backup',
  'corral backup web --include-template -o web-full.backup',
  'corral backup web --since web.backup -o web-incr.backup',
  'corral backup web -o - | ssh host2 corral restore - --start',
];

export interface BackupCommandRequest {
  container: string;
  output: string;
  includeTemplate: boolean;
  since?: string;
  compression?: 'gzip' | 'zstd' | 'none';
}

export function registerBackup(program: Command, dispatch: (req: BackupCommandRequest) => Promise<void>): void {
  const cmd = program
    .command('backup')
    .description('write a container (its config, writable layer and template identity) as one checksummed, compressed archive')
    .argument('<container>')
    .option('-o, --output <file>', 'where to write the archive (- for stdout)', '-')
    .option('--include-template', "carry the template's layers too (a restore on a host without the template)", false)
    .option('--since <backup>', 'an incremental: only what changed since this earlier backup of the container')
    .option('--compression <kind>', 'zstd (default where the zstd tool is), gzip, or none')
    .action((container: string, o: { output: string; includeTemplate: boolean; since?: string; compression?: string }) => {
      if (o.compression !== undefined && !['gzip', 'zstd', 'none'].includes(o.compression)) throw new ValidationError(`--compression ${o.compression}: zstd, gzip or none`);
      return dispatch({
        container,
        output: o.output,
        includeTemplate: o.includeTemplate,
        ...(o.since !== undefined ? { since: o.since } : {}),
        ...(o.compression !== undefined ? { compression: o.compression as 'gzip' } : {}),
      });
    });
  withExamples(cmd, EXAMPLES);
}

export async function backup(ctx: Context, req: BackupCommandRequest): Promise<number> {
  const toStdout = req.output === '-';
  if (toStdout && ctx.io.stdout.isTTY) throw new ValidationError('backup: refusing to write an archive to a terminal; redirect stdout or use -o FILE');
  const body: BackupRequest = { includeTemplate: req.includeTemplate, ...(req.compression ? { compression: req.compression } : {}) };
  if (req.since !== undefined) {
    // The archive reader loads only for --since (the CLI's start-up graph stays small).
    const { readManifest } = await import('../backup-manifest.js');
    const m = await readManifest(req.since);
    body.since = { backupId: m.backupId, state: m.state };
  }
  const res = await (await ctx.client()).backup(req.container, body);
  const id = String(res.headers['x-corral-backup-id'] ?? '');
  if (toStdout) {
    await pipeline(res, ctx.io.stdout, { end: false });
    return 0;
  }
  // Written beside the target and renamed when complete: a failed backup never leaves a file that looks whole.
  const tmp = `${req.output}.partial`;
  try {
    await pipeline(res, createWriteStream(tmp, { mode: 0o600 }));
    await rename(tmp, req.output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  ctx.io.stderr.write(`Backup ${id} of ${req.container} written to ${req.output}${req.since ? ` (incremental since ${req.since})` : ''}\n`);
  return 0;
}

