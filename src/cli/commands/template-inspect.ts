import type { Command } from 'commander';
import type { TemplateInfo } from '../../api/types.js';
import type { Context } from '../context.js';
import { toJson } from '../output.js';

export interface TemplateInspectRequest {
  names: string[];
}

export function registerTemplateInspect(template: Command, dispatch: (req: TemplateInspectRequest) => Promise<void>): void {
  template
    .command('inspect')
    .description('show templates as a JSON array: source, digest, layers (top first), defaults, users')
    .argument('<name...>')
    .action((names: string[]) => dispatch({ names }));
}

/** Docker's way: the ones found are printed, each one missing is reported, 1 if any was. */
export async function templateInspect(ctx: Context, req: TemplateInspectRequest): Promise<number> {
  const client = await ctx.client();
  const found: TemplateInfo[] = [];
  let failed = false;
  for (const n of req.names) {
    try {
      found.push(await client.template(n));
    } catch (err) {
      failed = true;
      ctx.warn(err);
    }
  }
  ctx.out(toJson(found));
  return failed ? 1 : 0;
}
