import { Option, type Command } from 'commander';
import type { ContainerInspect } from '../../api/types.js';
import type { Context } from '../context.js';
import { toJson } from '../output.js';

export interface InspectRequest {
  refs: string[];
}

export function registerInspect(program: Command, dispatch: (req: InspectRequest) => Promise<void>): void {
  program
    .command('inspect')
    .description('show containers\' configuration and state as a JSON array')
    .argument('<container...>')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json']).default('json'))
    .action((refs: string[]) => dispatch({ refs }));
}

/** Like `docker inspect`: the array of those found, an error line for each that is not; 1 if any. */
export async function inspect(ctx: Context, req: InspectRequest): Promise<number> {
  const client = await ctx.client();
  const found: ContainerInspect[] = [];
  const errors: unknown[] = [];
  for (const ref of req.refs) {
    try {
      found.push(await client.inspect(ref));
    } catch (err) {
      errors.push(err);
    }
  }
  ctx.out(toJson(found));
  errors.forEach((e) => ctx.warn(e));
  return errors.length > 0 ? 1 : 0;
}
