import { constants } from 'node:os';
import type { Command } from 'commander';
import { encodeSignal, encodeFrame, FrameType } from '../../api/frames.js';
import type { ExecRequest } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { buildEnv, collect } from '../options.js';
import { runSession, sessionExitCode } from '../session.js';

export interface ExecCommandRequest {
  ref: string;
  exec: ExecRequest;
  detach: boolean;
}

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env?: string[];
  envFile?: string[];
  user?: string;
  workdir?: string;
}

export function registerExec(program: Command, dispatch: (req: ExecCommandRequest) => Promise<void>): void {
  program
    .command('exec')
    .description('run a command in a running container; exit with its exit code')
    .argument('<container>')
    .argument('<command...>')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-d, --detach', 'run the command in the background')
    .option('-e, --env <K=V|K>', 'set an environment variable (repeatable)', collect)
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect)
    .option('-u, --user <user[:group]>', 'user (name or uid, optionally :group)')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .passThroughOptions()
    .action((ref: string, command: string[], f: ExecFlags) => dispatch(toExecRequest(ref, command, f)));
}

export function toExecRequest(ref: string, command: string[], f: ExecFlags, env: NodeJS.ProcessEnv = process.env): ExecCommandRequest {
  const exec: ExecRequest = { command };
  const vars = buildEnv(f.env ?? [], f.envFile ?? [], env);
  if (vars.length > 0) exec.env = vars;
  if (f.user !== undefined) exec.user = f.user;
  if (f.workdir !== undefined) exec.workdir = f.workdir;
  if (f.tty) exec.tty = true;
  if (f.interactive) exec.interactive = true;
  return { ref, exec, detach: f.detach === true };
}

export async function exec(ctx: Context, req: ExecCommandRequest): Promise<number> {
  const { exec: spec, detach } = req;
  if (!detach && spec.tty && spec.interactive && !ctx.io.stdin.isTTY) {
    throw new ValidationError('the input device is not a TTY');
  }
  const client = await ctx.client();
  const { id } = await client.execCreate(req.ref, spec);
  const socket = await client.execStart(id);
  if (detach) {
    // The process keeps running; we only hang up (no stdin for it).
    socket.end(encodeFrame(FrameType.STDIN_EOF));
    return 0;
  }
  const result = await runSession(socket, ctx.io, {
    interactive: spec.interactive === true,
    tty: spec.tty === true,
    forwardSignal: (signal) => void socket.write(encodeSignal(constants.signals[signal])),
  });
  return sessionExitCode(result);
}
