import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { ValidationError } from '../../errors.js';
import type { Context } from '../context.js';

export interface ExportRequest {
  container: string;
  output?: string;
}

export function registerExport(program: Command, dispatch: (req: ExportRequest) => Promise<void>): void {
  program
    .command('export')
    .description("write a container's filesystem (its template's layers and its changes, merged) as a tar archive to stdout")
    .argument('<container>')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((container: string, o: { output?: string }) => dispatch({ container, ...(o.output !== undefined ? { output: o.output } : {}) }));
}

export async function exportContainer(ctx: Context, req: ExportRequest): Promise<number> {
  if (req.output === undefined && ctx.io.stdout.isTTY) throw new ValidationError('export: refusing to write a tar archive to a terminal; redirect stdout or use -o FILE');
  const res = await (await ctx.client()).export(req.container);
  if (req.output !== undefined) {
    await pipeline(res, createWriteStream(req.output));
  } else {
    await pipeline(res, ctx.io.stdout, { end: false });
  }
  return 0;
}
