import type { Command } from 'commander';
import type { Context } from '../context.js';

export interface TemplatePruneRequest {
  force: boolean;
}

export function registerTemplatePrune(template: Command, dispatch: (req: TemplatePruneRequest) => Promise<void>): void {
  template
    .command('prune')
    .description('remove templates no container and no other template uses; without -f, only say which')
    .option('-f, --force', 'remove them')
    .action((o: { force?: boolean }) => dispatch({ force: o.force === true }));
}

export async function templatePrune(ctx: Context, req: TemplatePruneRequest): Promise<number> {
  const client = await ctx.client();
  const names = await client.templatePrune({ dryRun: !req.force });
  if (names.length === 0) ctx.out('no unused template\n');
  else if (!req.force) ctx.out(`would remove: ${names.join(' ')}\n(corral template prune -f removes them)\n`);
  else ctx.out(names.map((n) => `removed ${n}\n`).join(''));
  return 0;
}
