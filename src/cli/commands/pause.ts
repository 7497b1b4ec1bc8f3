import type { Command } from 'commander';
import { eachRef, type Context } from '../context.js';
import { withExamples } from '../examples.js';

const DESCRIPTION = 'freeze every process of running containers (the freezer cgroup)';
const EXAMPLES = ['corral pause web', 'corral pause web worker'];

export interface PauseRequest {
  refs: string[];
}

export function registerPause(program: Command, dispatch: (req: PauseRequest) => Promise<void>): void {
  const cmd = program
    .command('pause')
    .description(DESCRIPTION)
    .argument('<container...>')
    .action((refs: string[]) => dispatch({ refs }));
  withExamples(cmd, EXAMPLES);
}

export function pause(ctx: Context, req: PauseRequest): Promise<number> {
  return eachRef(ctx, req.refs, (client, ref) => client.pause(ref));
}
