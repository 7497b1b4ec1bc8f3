import type { Command } from 'commander';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';

export interface RenameRequest {
  ref: string;
  name: string;
}

export function registerRename(program: Command, dispatch: (req: RenameRequest) => Promise<void>): void {
  const cmd = program
    .command('rename')
    .description('rename a container (running or not)')
    .argument('<container>')
    .argument('<new-name>')
    .action((ref: string, name: string) => dispatch({ ref, name }));
  withExamples(cmd, ['corral rename web web-old', 'corral rename 3f2a9c1b api']);
}

/** Prints nothing on success, as Docker's `rename`. */
export async function rename(ctx: Context, req: RenameRequest): Promise<number> {
  await (await ctx.client()).rename(req.ref, req.name);
  return 0;
}
