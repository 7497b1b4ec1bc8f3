import type { Command } from 'commander';
import type { Context } from '../context.js';
import { uploadArchive } from '../../client/template-import.js';
import { openArchive, report } from './template-import.js';

export interface LoadRequest {
  /** A docker-save archive, an OCI layout (directory or tar), or '-' for stdin. */
  input: string;
  name?: string;
}

/** `corral template load` and its alias `corral load` (Docker's `docker load`). */
export function registerLoad(program: Command, template: Command, dispatch: (req: LoadRequest) => Promise<void>): void {
  for (const parent of [template, program]) {
    parent
      .command('load')
      .description('make a template from a docker-save archive or an OCI image layout (directory or tar)')
      .option('-i, --input <file>', 'the archive or OCI layout directory; - or nothing reads stdin', '-')
      .option('--name <name>', 'template name (default: from the image\'s tag, e.g. alpine:3.19 → alpine-3.19)')
      .action((o: { input: string; name?: string }) => dispatch({ input: o.input, ...(o.name !== undefined ? { name: o.name } : {}) }));
  }
}

export async function load(ctx: Context, req: LoadRequest): Promise<number> {
  const body = await openArchive(ctx, req.input, true);
  const client = await ctx.client();
  const query = req.name !== undefined ? `?name=${encodeURIComponent(req.name)}` : '';
  const res = await uploadArchive(client.socketPath, `/v1/templates/load${query}`, body);
  report(ctx, res);
  ctx.out(`Loaded template ${res.name} (${res.layers} layer${res.layers === 1 ? '' : 's'}${res.tags[0] ? `, from ${res.tags[0]}` : ''})\n`);
  return 0;
}
