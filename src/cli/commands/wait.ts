import type { Command } from 'commander';
import type { Context } from '../context.js';

export interface WaitRequest {
  refs: string[];
}

export function registerWait(program: Command, dispatch: (req: WaitRequest) => Promise<void>): void {
  program
    .command('wait')
    .description('wait until containers stop, then print their exit codes')
    .argument('<container...>')
    .action((refs: string[]) => dispatch({ refs }));
}

export async function wait(ctx: Context, req: WaitRequest): Promise<number> {
  const client = await ctx.client();
  let failed = false;
  for (const ref of req.refs) {
    try {
      const r = await client.wait(ref);
      ctx.out(`${r.exitCode ?? -1}\n`);
    } catch (err) {
      failed = true;
      ctx.warn(err);
    }
  }
  return failed ? 1 : 0;
}
