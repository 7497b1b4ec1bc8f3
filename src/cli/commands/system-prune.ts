import { Option, type Command } from 'commander';
import { CorralError } from '../../errors.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { humanSize, toJson } from '../output.js';
import { readAnswer } from './container-prune.js';

export interface SystemPruneRequest {
  force: boolean;
  /** Docker's `-a`: unused templates too (Docker: unused images). */
  all: boolean;
  volumes: boolean;
  format: 'text' | 'json';
}

/** `corral system prune`: `container prune`, then (`-a`) `template prune`, then (`--volumes`) `volume prune`. */
export function registerSystemPrune(program: Command, dispatch: (req: SystemPruneRequest) => Promise<void>): void {
  const group = program.commands.find((c) => c.name() === 'system') ?? program.command('system').description("Docker's system group: df, prune");
  const cmd = group
    .command('prune')
    .description('remove stopped containers; with -a unused templates, with --volumes unused volumes')
    .option('-a, --all', 'also remove templates no container and no template uses')
    .option('--volumes', 'also remove volumes no container uses')
    .option('-f, --force', 'do not ask for confirmation')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o: { all?: boolean; volumes?: boolean; force?: boolean; format: 'text' | 'json' }) => dispatch({ all: o.all === true, volumes: o.volumes === true, force: o.force === true, format: o.format }));
  withExamples(cmd, ['corral system prune -f', 'corral system prune -a --volumes -f']);
}

export async function systemPrune(ctx: Context, req: SystemPruneRequest): Promise<number> {
  if (!req.force) {
    const what = ['all stopped containers', ...(req.all ? ['all templates not used by a container or another template'] : []), ...(req.volumes ? ['all volumes not used by at least one container'] : [])];
    ctx.out(`WARNING! This will remove:\n${what.map((w) => `  - ${w}\n`).join('')}Are you sure you want to continue? [y/N] `);
    const answer = await readAnswer(ctx.io.stdin);
    if (answer === null) {
      ctx.out('\n');
      throw new CorralError('validation', 'system prune: no confirmation on stdin: nothing removed (use -f to skip the question)');
    }
    if (!/^y(es)?$/i.test(answer.trim())) return 0;
  }
  const client = await ctx.client();
  // Containers first: what they used (templates, volumes) becomes unused.
  const containers = await client.prune();
  const templates = req.all ? await client.templatePrune() : [];
  const volumes = req.volumes ? await client.volumePrune() : { removed: [], spaceReclaimed: 0 };
  if (req.format === 'json') {
    ctx.out(toJson({ containers, templates, volumes }));
    return 0;
  }
  if (containers.deleted.length > 0) ctx.out(`Deleted Containers:\n${containers.deleted.map((c) => `${c.id}\n`).join('')}\n`);
  if (templates.length > 0) ctx.out(`Deleted Templates:\n${templates.map((t) => `${t}\n`).join('')}\n`);
  if (volumes.removed.length > 0) ctx.out(`Deleted Volumes:\n${volumes.removed.map((v) => `${v}\n`).join('')}\n`);
  ctx.out(`Total reclaimed space: ${humanSize(containers.spaceReclaimed + volumes.spaceReclaimed)}\n`);
  return 0;
}
