import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { create as tarCreate } from 'tar';
import { fsError, ValidationError } from '../../errors.js';
import type { ImportResult } from '../../api/types.js';
import { uploadArchive } from '../../client/template-import.js';
import type { Context } from '../context.js';

export interface TemplateImportRequest {
  name: string;
  /** A file, or '-' for stdin. */
  file: string;
}

/** `corral template import NAME FILE|-`, registered on the `template` command. */
export function registerTemplateImport(template: Command, dispatch: (req: TemplateImportRequest) => Promise<void>): void {
  template
    .command('import')
    .description('make a template from a rootfs tarball (tar, gzip, xz, zstd or bzip2; - reads stdin)')
    .argument('<name>', 'template name')
    .argument('<file>', 'the tarball, or - for stdin')
    .action((name: string, file: string) => dispatch({ name, file }));
}

export async function templateImport(ctx: Context, req: TemplateImportRequest): Promise<number> {
  const body = await openArchive(ctx, req.file, false);
  const client = await ctx.client();
  const res = await uploadArchive(client.socketPath, `/v1/templates/import?name=${encodeURIComponent(req.name)}`, body);
  report(ctx, res);
  ctx.out(`Imported template ${res.name} (${res.entries} entries, ${res.bytes} bytes)\n`);
  return 0;
}

/**
 * The archive as a stream for corrald: stdin for '-', a file as is, and (with `dirs`) a directory
 * — an OCI image layout — packed as a tar on the fly, since corrald never reads the caller's paths.
 */
export async function openArchive(ctx: Context, file: string, dirs: boolean): Promise<Readable> {
  if (file === '-') {
    if (ctx.io.stdin.isTTY) throw new ValidationError('no archive on stdin (it is a terminal): give a file, or pipe one in');
    return ctx.io.stdin;
  }
  const path = resolve(file);
  const st = await stat(path).catch((err: unknown) => {
    throw fsError('open', path, err);
  });
  if (st.isDirectory()) {
    if (!dirs) throw new ValidationError(`${file} is a directory: template import takes a tarball (tar -C DIR -c . | corral template import NAME -)`);
    return Readable.from(tarCreate({ cwd: path, portable: true }, ['.']) as unknown as AsyncIterable<Buffer>);
  }
  return createReadStream(path);
}

export function report(ctx: Context, res: ImportResult): void {
  for (const w of res.warnings) ctx.io.stderr.write(`warning: ${w}\n`);
}
