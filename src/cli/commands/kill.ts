import type { Command } from 'commander';
import { eachRef, type Context } from '../context.js';

export interface KillRequest {
  refs: string[];
  /** Name (`SIGTERM`, `TERM`) or number; corrald's default is SIGKILL. */
  signal?: string;
}

export function registerKill(program: Command, dispatch: (req: KillRequest) => Promise<void>): void {
  program
    .command('kill')
    .description('send a signal to running containers')
    .argument('<container...>')
    .option('-s, --signal <signal>', 'signal to send (default SIGKILL)')
    .action((refs: string[], o: { signal?: string }) => dispatch({ refs, ...(o.signal !== undefined ? { signal: o.signal } : {}) }));
}

export function kill(ctx: Context, req: KillRequest): Promise<number> {
  return eachRef(ctx, req.refs, (client, ref) => client.kill(ref, req.signal !== undefined ? { signal: req.signal } : {}));
}
