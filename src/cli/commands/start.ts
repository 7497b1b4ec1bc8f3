import type { Command } from 'commander';
import { eachRef, type Context } from '../context.js';

export interface StartRequest {
  refs: string[];
}

export function registerStart(program: Command, dispatch: (req: StartRequest) => Promise<void>): void {
  program
    .command('start')
    .description('start stopped or created containers')
    .argument('<container...>')
    .action((refs: string[]) => dispatch({ refs }));
}

export function start(ctx: Context, req: StartRequest): Promise<number> {
  return eachRef(ctx, req.refs, (client, ref) => client.start(ref));
}
