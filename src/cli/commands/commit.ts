import type { Command } from 'commander';
import type { Context } from '../context.js';

export interface CommitRequest {
  container: string;
  name: string;
}

export function registerCommit(program: Command, dispatch: (req: CommitRequest) => Promise<void>): void {
  program
    .command('commit')
    .description("make a template of a container: its changes on top of its template's layers (shared, not copied); a running container is not paused")
    .argument('<container>')
    .argument('<name>', 'the new template')
    .action((container: string, name: string) => dispatch({ container, name }));
}

export async function commit(ctx: Context, req: CommitRequest): Promise<number> {
  const r = await (await ctx.client()).commit({ container: req.container, name: req.name });
  for (const w of r.warnings) ctx.warn(`warning: ${w}`);
  ctx.out(`${r.template.name}\n`);
  return 0;
}
