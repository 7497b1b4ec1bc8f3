import type { Command } from 'commander';
import { eachRef, type Context } from '../context.js';
import { withExamples } from '../examples.js';

const DESCRIPTION = 'let the processes of paused containers run again';
const EXAMPLES = ['corral unpause web'];

export interface UnpauseRequest {
  refs: string[];
}

export function registerUnpause(program: Command, dispatch: (req: UnpauseRequest) => Promise<void>): void {
  const cmd = program
    .command('unpause')
    .description(DESCRIPTION)
    .argument('<container...>')
    .action((refs: string[]) => dispatch({ refs }));
  withExamples(cmd, EXAMPLES);
}

export function unpause(ctx: Context, req: UnpauseRequest): Promise<number> {
  return eachRef(ctx, req.refs, (client, ref) => client.unpause(ref));
}
