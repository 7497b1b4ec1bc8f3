import type { Command } from 'commander';
import { ManifestError, formatIssue } from '../../manifest/issues.js';
import type { Context } from '../context.js';

/** The flags every manifest command takes. */
export interface ManifestFlags {
  file: string;
  project?: string;
}

export function addManifestFlags(cmd: Command): Command {
  return cmd
    .requiredOption('-f, --file <path>', 'the manifest (YAML); - reads standard input')
    .option('--project <name>', 'name the manifest (required with -f -): labels what apply creates');
}

/** Exit code 2 for a manifest that does not validate, with every problem on a line of its own. */
export async function withManifestErrors(ctx: Context, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    for (const issue of err.issues) ctx.io.stderr.write(`${formatIssue(issue)}\n`);
    ctx.io.stderr.write(`corral: ${err.file}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}; nothing was changed\n`);
    return 2;
  }
}

/** `plan` and `drift` exit with this when changes are pending (0: in sync, 2: bad manifest). */
export const EXIT_PENDING = 4;
