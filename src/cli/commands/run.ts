import type { Command } from 'commander';
import type { CreateRequest } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { runSession, sessionExitCode } from '../session.js';
import { prepareTemplate } from './template-prepare.js';
import { addContainerFlags, toCreateRequest, type ContainerFlags } from './create.js';

export interface RunRequest {
  create: CreateRequest;
  detach: boolean;
}

export function registerRun(program: Command, dispatch: (req: RunRequest) => Promise<void>): void {
  addContainerFlags(program.command('run').description('create and start a container; in the foreground, exit with its exit code'))
    .option('-d, --detach', 'run in the background and print the container id')
    .action((template: string, command: string[], flags: ContainerFlags & { detach?: boolean }) =>
      dispatch({ create: toCreateRequest(template, command, flags), detach: flags.detach === true }),
    );
}

export async function run(ctx: Context, req: RunRequest): Promise<number> {
  const { create, detach } = req;
  if (!detach && create.tty && create.interactive && !ctx.io.stdin.isTTY) {
    throw new ValidationError('the input device is not a TTY');
  }
  const client = await ctx.client();
  await prepareTemplate(ctx, client, create.template);
  const { id, warnings } = await client.create(create);
  for (const w of warnings ?? []) ctx.warn(`warning: ${w}`);
  if (detach) {
    await client.start(id);
    ctx.out(`${id}\n`);
    return 0;
  }
  const socket = await client.startAttached(id);
  const result = await runSession(socket, ctx.io, {
    interactive: create.interactive === true,
    tty: create.tty === true,
    forwardSignal: (signal) => client.kill(id, { signal }),
  });
  return sessionExitCode(result);
}
