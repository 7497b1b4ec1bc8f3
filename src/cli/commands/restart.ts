import type { Command } from 'commander';
import { eachRef, type Context } from '../context.js';
import { nonNegativeInt } from '../options.js';
import type { StopRequest } from './stop.js';

export type RestartRequest = StopRequest;

export function registerRestart(program: Command, dispatch: (req: RestartRequest) => Promise<void>): void {
  program
    .command('restart')
    .description('restart containers')
    .argument('<container...>')
    .option('-t, --time <secs>', 'seconds to wait before killing (default 10)', nonNegativeInt)
    .action((refs: string[], o: { time?: number }) => dispatch({ refs, ...(o.time !== undefined ? { timeout: o.time } : {}) }));
}

export function restart(ctx: Context, req: RestartRequest): Promise<number> {
  return eachRef(ctx, req.refs, (client, ref) => client.restart(ref, req.timeout !== undefined ? { timeout: req.timeout } : {}));
}
