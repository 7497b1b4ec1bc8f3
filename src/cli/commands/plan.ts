import type { Command } from 'commander';
import type { Context } from '../context.js';
import { addManifestFlags, EXIT_PENDING, withManifestErrors, type ManifestFlags } from '../manifest/command.js';
import { loadManifest } from '../manifest/load.js';
import { makePlan } from '../manifest/plan.js';
import { renderPlan } from '../manifest/render.js';

export type PlanRequest = ManifestFlags & { prune?: boolean; adopt?: boolean; format?: string };

export function registerPlan(program: Command, dispatch: (req: PlanRequest) => Promise<void>): void {
  addManifestFlags(program.command('plan').description(`show what apply would do: create, update in place, recreate, start, delete (--prune); exit 0 in sync, ${EXIT_PENDING} with changes pending, 2 for an invalid manifest`))
    .option('--prune', 'also delete containers this manifest made that it no longer names')
    .option('--adopt', 'take over the containers of these names another manifest made (this one moved, or got a --project)')
    .option('--format <format>', 'text or json', 'text')
    .action((f: PlanRequest) => dispatch(f));
}

export async function plan(ctx: Context, req: PlanRequest): Promise<number> {
  return withManifestErrors(ctx, async () => {
    const client = await ctx.client();
    const m = await loadManifest(req.file, client, req.project ? { project: req.project } : {});
    const p = await makePlan(client, m, { prune: req.prune === true, adopt: req.adopt === true });
    if (req.format === 'json') ctx.out(JSON.stringify({ pending: p.pending, networks: p.networks, actions: p.actions.map(({ kind, name, ...rest }) => ({ kind, name, ...('changes' in rest ? { changes: rest.changes, outside: rest.outside } : {}), ...('reason' in rest ? { reason: rest.reason } : {}) })) }, null, 2) + '\n');
    else ctx.out(renderPlan(p));
    return p.pending ? EXIT_PENDING : 0;
  });
}
