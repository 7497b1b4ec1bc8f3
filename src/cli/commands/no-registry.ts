import type { Command } from 'commander';
import { CorralError } from '../../errors.js';
import type { Context } from '../context.js';
import { withExamples } from '../examples.js';

/** Docker's registry verbs; Corral answers them with what to do instead. */
export const REGISTRY_VERBS = ['pull', 'push', 'login'] as const;
export type RegistryVerb = (typeof REGISTRY_VERBS)[number];

export interface NoRegistryRequest {
  verb: RegistryVerb;
}

/**
 * `pull`, `push` and `login` exist so a Docker user gets an answer rather than an unknown-verb
 * error with a suggestion of some other verb: Corral has no registry client; images come in
 * through `corral template load`.
 */
export function registerNoRegistry(program: Command, dispatch: (req: NoRegistryRequest) => Promise<void>): void {
  for (const verb of REGISTRY_VERBS) {
    const cmd = program
      .command(verb)
      .description(`(not available) Corral has no registry client: use \`corral template load\``)
      .argument('[args...]')
      .allowUnknownOption()
      .helpOption(false)
      .action(() => dispatch({ verb }));
    withExamples(cmd, ['docker save alpine:3.19 | corral template load', 'skopeo copy docker://alpine:3.19 oci-archive:alpine.tar && corral template load -i alpine.tar']);
  }
}

export async function noRegistry(_ctx: Context, req: NoRegistryRequest): Promise<number> {
  throw new CorralError(
    'unavailable',
    `${req.verb}: Corral has no registry client; fetch the image with docker or skopeo and load it with \`corral template load\` (docker save IMAGE | corral template load)`,
    { verb: req.verb },
  );
}
