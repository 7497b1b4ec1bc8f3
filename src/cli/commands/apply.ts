import type { Command } from 'commander';
import type { Context } from '../context.js';
import { addManifestFlags, withManifestErrors, type ManifestFlags } from '../manifest/command.js';
import { applyPlan } from '../manifest/apply.js';
import { loadManifest } from '../manifest/load.js';
import { makePlan } from '../manifest/plan.js';
import { renderPlan } from '../manifest/render.js';
import { parseDuration } from '../../util/time.js';

export type ApplyRequest = ManifestFlags & { prune?: boolean; adopt?: boolean; waitTimeout: string };

export function registerApply(program: Command, dispatch: (req: ApplyRequest) => Promise<void>): void {
  addManifestFlags(program.command('apply').description('make the containers match the manifest, in dependency order; a second apply does nothing'))
    .option('--prune', 'also delete containers this manifest made that it no longer names')
    .option('--adopt', 'take over the containers of these names another manifest made (this one moved, or got a --project)')
    .option('--wait-timeout <duration>', 'how long to wait for a dependency to be started or healthy', '120s')
    .action((f: ApplyRequest) => dispatch(f));
}

export async function apply(ctx: Context, req: ApplyRequest): Promise<number> {
  const waitMs = parseDuration(req.waitTimeout, '--wait-timeout');
  return withManifestErrors(ctx, async () => {
    const client = await ctx.client();
    const m = await loadManifest(req.file, client, req.project ? { project: req.project } : {});
    const p = await makePlan(client, m, { prune: req.prune === true, adopt: req.adopt === true });
    ctx.out(renderPlan(p));
    if (!p.pending) return 0;
    await applyPlan(client, p, { waitMs, progress: (line) => ctx.io.stderr.write(`${line}\n`) });
    ctx.out('Applied.\n');
    return 0;
  });
}
