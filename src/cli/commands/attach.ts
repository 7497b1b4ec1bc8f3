import type { Command } from 'commander';
import type { Context } from '../context.js';
import { runSession, sessionExitCode } from '../session.js';

export interface AttachRequest {
  ref: string;
  noStdin: boolean;
}

export function registerAttach(program: Command, dispatch: (req: AttachRequest) => Promise<void>): void {
  program
    .command('attach')
    .description("attach to a running container's output (and its input, if it was started with -i); exit with its exit code")
    .argument('<container>')
    .option('--no-stdin', 'do not send this terminal\'s input')
    .action((ref: string, o: { stdin: boolean }) => dispatch({ ref, noStdin: !o.stdin }));
}

export async function attach(ctx: Context, req: AttachRequest): Promise<number> {
  const client = await ctx.client();
  const info = await client.inspect(req.ref);
  const socket = await client.attach(req.ref);
  const result = await runSession(socket, ctx.io, {
    interactive: info.config.interactive && !req.noStdin,
    tty: info.config.tty,
    forwardSignal: (signal) => client.kill(req.ref, { signal }),
  });
  return sessionExitCode(result);
}
