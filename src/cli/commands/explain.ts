import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { addManifestFlags, withManifestErrors, type ManifestFlags } from '../manifest/command.js';
import { loadManifest } from '../manifest/load.js';

export type ExplainRequest = ManifestFlags & { format?: string };

export function registerExplain(program: Command, dispatch: (req: ExplainRequest) => Promise<void>): void {
  addManifestFlags(program.command('explain').description('show, for each container, every value and what it becomes in the kernel (cgroup v2 and v1)'))
    .option('--format <format>', 'text or json', 'text')
    .action((f: ExplainRequest) => dispatch(f));
}

/** A block device's major:minor, for io limits (undefined when the path is not one). */
function deviceNumber(path: string): string | undefined {
  try {
    const st = statSync(path);
    return st.isBlockDevice() ? `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}` : undefined;
  } catch {
    return undefined;
  }
}

export async function explain(ctx: Context, req: ExplainRequest): Promise<number> {
  return withManifestErrors(ctx, async () => {
    // Explaining needs no daemon: templates are not checked here (validate does that).
    const m = await loadManifest(req.file, undefined, req.project ? { project: req.project } : {});
    const { explainManifest, formatExplanation } = await import('../../manifest/index.js');
    const list = explainManifest(m.spec, { deviceNumber });
    ctx.out(req.format === 'json' ? JSON.stringify(list, null, 2) + '\n' : formatExplanation(list));
    return 0;
  });
}
