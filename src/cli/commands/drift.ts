import type { Command } from 'commander';
import type { Context } from '../context.js';
import { addManifestFlags, EXIT_PENDING, withManifestErrors, type ManifestFlags } from '../manifest/command.js';
import { loadManifest } from '../manifest/load.js';
import { makePlan } from '../manifest/plan.js';
import { renderPlan } from '../manifest/render.js';

export type DriftRequest = ManifestFlags;

export function registerDrift(program: Command, dispatch: (req: DriftRequest) => Promise<void>): void {
  addManifestFlags(program.command('drift').description(`report containers changed outside the manifest since it was applied (exit ${EXIT_PENDING} when there is drift)`)).action((f: DriftRequest) => dispatch(f));
}

export async function drift(ctx: Context, req: DriftRequest): Promise<number> {
  return withManifestErrors(ctx, async () => {
    const client = await ctx.client();
    const m = await loadManifest(req.file, client, req.project ? { project: req.project } : {});
    const p = await makePlan(client, m, { prune: false });
    const drifted = p.actions.filter((a) => (a.kind === 'update' || a.kind === 'recreate') && a.outside);
    if (drifted.length === 0) {
      ctx.out('No drift: every container is as the manifest made it.\n');
      return 0;
    }
    ctx.out(renderPlan({ actions: drifted, networks: [], pending: true }).replace(/^Plan:.*$/m, `Drift: ${drifted.length} container${drifted.length === 1 ? '' : 's'} changed outside the manifest; apply puts them back.`));
    return EXIT_PENDING;
  });
}
