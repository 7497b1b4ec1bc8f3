import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandFailedError, CorralError, fsError } from '../../errors.js';
import type { Runner } from '../../system/runner.js';
import type { Recipe } from '../recipes.js';
import type { Produced, SourceContext, TemplateSource } from '../source.js';

/**
 * A template built by a recipe's script: `/bin/sh build OUTPUT_DIR`, its options in the
 * environment as `CORRAL_OPT_<NAME>` (checked against the recipe's patterns first), a cache
 * directory of its own kept across builds in `CORRAL_CACHE_DIR`. Every line the script prints is
 * a progress line.
 */
export class RecipeSource implements TemplateSource {
  readonly label: string;

  constructor(
    private readonly recipe: Recipe,
    private readonly args: Record<string, string>,
    private readonly runner: Runner,
  ) {
    this.label = `recipe ${recipe.name}`;
  }

  async produce(ctx: SourceContext): Promise<Produced> {
    const out = join(ctx.dir, 'layers', '0');
    const cache = join(ctx.cacheDir, this.recipe.name);
    for (const d of [join(ctx.dir, 'layers'), cache]) {
      await mkdir(d, { recursive: true, mode: 0o755 }).catch((err: unknown) => {
        throw fsError('create', d, err);
      });
    }
    const env: Record<string, string> = { CORRAL_CACHE_DIR: cache };
    for (const [k, v] of Object.entries(this.args)) env[`CORRAL_OPT_${k.toUpperCase()}`] = v;
    const opts = Object.entries(this.args).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`);
    ctx.progress(`building template ${ctx.name} from recipe ${this.recipe.name}${opts.length ? ` (${opts.join(', ')})` : ''}`);
    await this.runner
      .run('/bin/sh', [this.recipe.script, out], {
        env,
        timeoutMs: this.recipe.timeoutMinutes * 60_000,
        onOutput: ctx.progress,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      })
      .catch((err: unknown) => {
        if (ctx.signal?.aborted) throw new CorralError('command_failed', `build template ${ctx.name}: interrupted`);
        throw buildFailed(ctx.name, err);
      });
    return { layers: [{ own: '0' }], defaults: this.recipe.defaults, description: this.recipe.description, source: { kind: 'recipe', recipe: this.recipe.name, args: this.args }, parent: null };
  }
}

function buildFailed(name: string, err: unknown): unknown {
  if (!(err instanceof CommandFailedError)) return err;
  const last = err.stderr.trim().split('\n').pop() || `exit ${err.exitCode ?? 'unknown'}`;
  return new CommandFailedError(err.command, err.exitCode, err.stderr, `build template ${name}: ${last}`);
}
