import type { Command } from 'commander';
import type { Context } from '../context.js';
import { addManifestFlags, withManifestErrors, type ManifestFlags } from '../manifest/command.js';
import { LABEL_MANIFEST, loadManifest } from '../manifest/load.js';

export type DeleteRequest = ManifestFlags;

export function registerDelete(program: Command, dispatch: (req: DeleteRequest) => Promise<void>): void {
  addManifestFlags(program.command('delete').description("remove the containers the manifest made, in reverse dependency order (never one it did not make)")).action((f: DeleteRequest) => dispatch(f));
}

export async function deleteManifest(ctx: Context, req: DeleteRequest): Promise<number> {
  return withManifestErrors(ctx, async () => {
    const client = await ctx.client();
    const m = await loadManifest(req.file, client, req.project ? { project: req.project } : {});
    const live = new Map((await client.list({ all: true })).map((c) => [c.name, c]));
    let failed = false;
    for (const name of [...m.spec.startOrder].reverse()) {
      const c = live.get(name);
      if (!c) continue;
      const info = await client.inspect(c.id);
      if (info.config.labels[LABEL_MANIFEST] !== m.owner) {
        ctx.warn(`${name}: not deleted: it was not made by this manifest`);
        failed = true;
        continue;
      }
      await client.remove(c.id, { force: true });
      ctx.out(`${name}\n`);
    }
    return failed ? 1 : 0;
  });
}
