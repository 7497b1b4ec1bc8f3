import { Argument, type Command } from 'commander';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';
import { completionScript, SHELLS, type Shell } from '../completion/scripts.js';

export interface CompletionRequest {
  shell: Shell;
}

export function registerCompletion(program: Command, dispatch: (req: CompletionRequest) => Promise<void>): void {
  const cmd = program
    .command('completion')
    .description('print a shell completion script: commands, flags, and the names of containers, templates and networks')
    .addArgument(new Argument('<shell>').choices(SHELLS))
    .action((shell: Shell) => dispatch({ shell }));
  withExamples(cmd, [
    'source <(corral completion bash)',
    'corral completion bash > /etc/bash_completion.d/corral',
    'corral completion zsh > "${fpath[1]}/_corral"',
    'corral completion fish > ~/.config/fish/completions/corral.fish',
  ]);
}

export async function completion(ctx: Context, req: CompletionRequest): Promise<number> {
  ctx.out(completionScript(req.shell));
  return 0;
}
