import type { Command } from 'commander';
import type { Context } from '../context.js';
import { addManifestFlags, withManifestErrors, type ManifestFlags } from '../manifest/command.js';
import { loadManifest } from '../manifest/load.js';

export type ValidateRequest = ManifestFlags;

export function registerValidate(program: Command, dispatch: (req: ValidateRequest) => Promise<void>): void {
  addManifestFlags(program.command('validate').description('check a manifest (schema, units, dependsOn, templates) without changing anything; exit 2 when it is invalid')).action((f: ManifestFlags) => dispatch(f));
}

export async function validate(ctx: Context, req: ValidateRequest): Promise<number> {
  return withManifestErrors(ctx, async () => {
    const m = await loadManifest(req.file, await ctx.client(), req.project ? { project: req.project } : {});
    for (const w of m.spec.warnings) ctx.io.stderr.write(`warning: ${w.file}:${w.line}:${w.col}: ${w.path}: ${w.message}\n`);
    ctx.out(`${m.spec.file}: valid, ${m.spec.containers.length} container${m.spec.containers.length === 1 ? '' : 's'} (start order: ${m.spec.startOrder.join(', ')})\n`);
    return 0;
  });
}
