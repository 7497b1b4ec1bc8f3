import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fsError } from '../../errors.js';
import type { Runner } from '../../system/runner.js';
import { planCommit, MAX_TEMPLATE_LAYERS } from '../depth.js';
import { mergedArgv } from '../merged.js';
import type { TemplateRecord } from '../record.js';
import type { Produced, SourceContext, TemplateSource } from '../source.js';

export interface CommitInput {
  container: { id: string; name: string };
  /** The container's overlay upper directory: what it changed. */
  upper: string;
  parent: TemplateRecord;
  /** The parent's layer directories, top first. */
  parentDirs: string[];
  unshare: string;
  maxLayers?: number;
}

/**
 * `corral commit`: the container's upper layer, copied, on top of its template's layers, which are
 * shared, not copied. The upper layer keeps overlayfs' markers (whiteouts: character devices 0:0;
 * opaque directories: the trusted.overlay.opaque xattr), which mean the same in a lower layer, so
 * `cp -a --preserve=xattr` (xattr failures are errors, not silently skipped) keeps deletions
 * deleted. Past MAX_TEMPLATE_LAYERS the result is flattened: a copy of the merged view.
 * Defaults stay the parent's (command, env, ...): the container's own command is not made the
 * template's.
 */
export class CommitSource implements TemplateSource {
  readonly label: string;

  constructor(
    private readonly input: CommitInput,
    private readonly runner: Runner,
  ) {
    this.label = `container ${input.container.name}`;
  }

  async produce(ctx: SourceContext): Promise<Produced> {
    const { parent, upper, parentDirs } = this.input;
    const plan = planCommit(parent.layers, this.input.maxLayers ?? MAX_TEMPLATE_LAYERS);
    const out = join(ctx.dir, 'layers', plan.ownDir);
    await mkdir(out, { recursive: true, mode: 0o755 }).catch((err: unknown) => {
      throw fsError('create', out, err);
    });
    if (plan.kind === 'stack') {
      ctx.progress(`copying the upper layer of ${this.input.container.name} on top of ${parent.name}'s ${parent.layers.length} layer(s)`);
      await this.runner.run('cp', ['-a', '--preserve=xattr', '--', `${upper}/.`, out], { ...(ctx.signal ? { signal: ctx.signal } : {}) });
    } else {
      ctx.progress(`${parent.name} has ${parent.layers.length} layers: flattening into one`);
      const mnt = join(ctx.dir, 'mnt');
      await mkdir(mnt, { mode: 0o700 });
      const argv = mergedArgv(this.input.unshare, mnt, [upper, ...parentDirs], (root) => ['cp', '-a', '--preserve=xattr', '--', `${root}/.`, out]);
      await this.runner.run(argv.file, argv.args, { ...(ctx.signal ? { signal: ctx.signal } : {}) });
      await rmdir(mnt);
    }
    return {
      layers: plan.kind === 'stack' ? [{ own: plan.ownDir }, ...plan.shared.map((shared) => ({ shared }))] : [{ own: plan.ownDir }],
      defaults: parent.defaults,
      description: `${this.input.container.name} committed from ${parent.name}`,
      source: { kind: 'commit', container: this.input.container.id, containerName: this.input.container.name, parent: parent.name, flattened: plan.kind === 'flatten' },
      parent: parent.name,
    };
  }
}
