import type { Command } from 'commander';
import { eachRef, type Context } from '../context.js';
import { nonNegativeInt } from '../options.js';

export interface StopRequest {
  refs: string[];
  /** Seconds to wait after SIGTERM before SIGKILL; corrald's default is 10. */
  timeout?: number;
}

export function registerStop(program: Command, dispatch: (req: StopRequest) => Promise<void>): void {
  program
    .command('stop')
    .description('stop running containers (SIGTERM, then SIGKILL after the timeout)')
    .argument('<container...>')
    .option('-t, --time <secs>', 'seconds to wait before killing (default 10)', nonNegativeInt)
    .action((refs: string[], o: { time?: number }) => dispatch({ refs, ...(o.time !== undefined ? { timeout: o.time } : {}) }));
}

export function stop(ctx: Context, req: StopRequest): Promise<number> {
  return eachRef(ctx, req.refs, (client, ref) => client.stop(ref, req.timeout !== undefined ? { timeout: req.timeout } : {}));
}
