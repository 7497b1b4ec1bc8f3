import type { Command } from 'commander';
import { ValidationError } from '../../errors.js';
import type { Context } from '../context.js';
import { progressPrinter } from './template-progress.js';

export interface TemplateBuildCommandRequest {
  recipe: string;
  name?: string;
  args: Record<string, string>;
}

export function registerTemplateBuild(template: Command, dispatch: (req: TemplateBuildCommandRequest) => Promise<void>): void {
  template
    .command('build')
    .description('build a template from a recipe of the package (busybox, debian); refused when the name exists')
    .argument('<recipe>')
    .option('--name <name>', 'the template name (default: the recipe name)')
    .option('--suite <suite>', 'debian: the Debian suite (default bookworm)')
    .option('--include <packages>', 'debian: more packages, comma-separated (e.g. nginx-light,curl)')
    .option('--opt <key=value>', 'another recipe option (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .action((recipe: string, o: { name?: string; suite?: string; include?: string; opt?: string[] }) => {
      const args: Record<string, string> = {};
      for (const kv of o.opt ?? []) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new ValidationError(`--opt ${kv}: expected key=value`);
        args[kv.slice(0, i)] = kv.slice(i + 1);
      }
      if (o.suite !== undefined) args.suite = o.suite;
      if (o.include !== undefined) args.include = o.include;
      return dispatch({ recipe, ...(o.name !== undefined ? { name: o.name } : {}), args });
    });
}

/** Progress on stderr as corrald streams it; the template's name on stdout when done. */
export async function templateBuild(ctx: Context, req: TemplateBuildCommandRequest): Promise<number> {
  const client = await ctx.client();
  const p = progressPrinter(ctx.io);
  try {
    const t = await client.templateBuild({ recipe: req.recipe, ...(req.name !== undefined ? { name: req.name } : {}), args: req.args }, (l) => p.line(l));
    p.done();
    ctx.out(`${t.name}\n`);
    return 0;
  } finally {
    p.done();
  }
}
