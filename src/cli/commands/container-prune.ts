import { Option, type Command } from 'commander';
import { CorralError } from '../../errors.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { humanSize, toJson } from '../output.js';

export interface ContainerPruneRequest {
  force: boolean;
  format: 'text' | 'json';
}

/** `corral container prune` (Docker's `container` group; other verbs stay top-level). */
export function registerContainerPrune(program: Command, dispatch: (req: ContainerPruneRequest) => Promise<void>): void {
  const group = program.commands.find((c) => c.name() === 'container') ?? program.command('container').description("Docker's container group: prune");
  const cmd = group
    .command('prune')
    .description('remove all stopped containers (created or exited)')
    .option('-f, --force', 'do not ask for confirmation')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o: { force?: boolean; format: 'text' | 'json' }) => dispatch({ force: o.force === true, format: o.format }));
  withExamples(cmd, ['corral container prune', 'corral container prune -f', 'yes | corral container prune']);
}

export async function containerPrune(ctx: Context, req: ContainerPruneRequest): Promise<number> {
  if (!req.force) {
    ctx.out('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
    const answer = await readAnswer(ctx.io.stdin);
    if (answer === null) {
      ctx.out('\n');
      // No one to ask (stdin closed or empty): never remove on a script's behalf without -f.
      throw new CorralError('validation', 'container prune: no confirmation on stdin: nothing removed (use -f to skip the question)');
    }
    if (!/^y(es)?$/i.test(answer.trim())) return 0;
  }
  const report = await (await ctx.client()).prune();
  if (req.format === 'json') {
    ctx.out(toJson(report));
    return 0;
  }
  if (report.deleted.length > 0) ctx.out(`Deleted Containers:\n${report.deleted.map((c) => `${c.id}\n`).join('')}\n`);
  ctx.out(`Total reclaimed space: ${humanSize(report.spaceReclaimed)}\n`);
  return 0;
}

/** One line from stdin, or null when it ends before giving one. */
export function readAnswer(stdin: NodeJS.ReadStream): Promise<string | null> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (v: string | null): void => {
      stdin.off('data', onData).off('end', onEnd).off('error', onEnd);
      stdin.pause();
      resolve(v);
    };
    const onData = (chunk: Buffer | string): void => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
    };
    const onEnd = (): void => done(buf.length > 0 ? buf : null);
    stdin.on('data', onData).on('end', onEnd).on('error', onEnd);
    stdin.resume();
  });
}
