import type { Command } from 'commander';
import { ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { runSession, sessionExitCode } from '../session.js';

export interface ConsoleRequest {
  ref: string;
}

/** Ctrl-P Ctrl-Q, Docker's detach keys. */
export const CONSOLE_DETACH_KEYS = [0x10, 0x11] as const;

export function registerConsole(program: Command, dispatch: (req: ConsoleRequest) => Promise<void>): void {
  program
    .command('console')
    .description("attach this terminal to a system container's console (/dev/console, where its getty asks for a login); detach with Ctrl-P Ctrl-Q")
    .argument('<container>')
    .action((ref: string) => dispatch({ ref }));
}

export async function consoleCmd(ctx: Context, req: ConsoleRequest): Promise<number> {
  const client = await ctx.client();
  const info = await client.inspect(req.ref);
  if (!info.config.boot) throw new ValidationError(`console ${req.ref}: not a system container (created without --boot); use corral attach`);
  const socket = await client.attach(req.ref);
  ctx.io.stderr.write(`Connected to the console of ${info.config.name}; detach with Ctrl-P Ctrl-Q\r\n`);
  const result = await runSession(socket, ctx.io, {
    interactive: true,
    tty: true,
    // Ctrl-C is a byte for the console in raw mode; a signal to the container's init
    // (SIGINT is systemd's Ctrl-Alt-Del: a reboot) is never sent from here.
    forwardSignal: () => undefined,
    detachKeys: CONSOLE_DETACH_KEYS,
  });
  if (result.detached) {
    ctx.io.stderr.write('\r\ndetached; the container runs on\n');
    return 0;
  }
  return sessionExitCode(result);
}
