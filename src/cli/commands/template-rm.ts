import type { Command } from 'commander';
import { eachRef, type Context } from '../context.js';

export interface TemplateRmRequest {
  names: string[];
}

export function registerTemplateRm(template: Command, dispatch: (req: TemplateRmRequest) => Promise<void>): void {
  template
    .command('rm')
    .alias('remove')
    .description('remove templates; refused while a container is made from one or a template stacks on it (both named)')
    .argument('<name...>')
    .action((names: string[]) => dispatch({ names }));
}

export function templateRm(ctx: Context, req: TemplateRmRequest): Promise<number> {
  return eachRef(ctx, req.names, (client, name) => client.templateRemove(name));
}
