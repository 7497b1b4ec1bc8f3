import type { Command } from 'commander';
import { eachRef, type Context } from '../context.js';

export interface RmRequest {
  refs: string[];
  force: boolean;
}

export function registerRm(program: Command, dispatch: (req: RmRequest) => Promise<void>): void {
  program
    .command('rm')
    .description('remove containers')
    .argument('<container...>')
    .option('-f, --force', 'stop a running container first')
    .action((refs: string[], o: { force?: boolean }) => dispatch({ refs, force: o.force === true }));
}

export function rm(ctx: Context, req: RmRequest): Promise<number> {
  return eachRef(ctx, req.refs, (client, ref) => client.remove(ref, { force: req.force }));
}
