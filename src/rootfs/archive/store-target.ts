import type { TemplateOrigin as StoreOrigin } from '../../api/types.js';
import { ConflictError } from '../../errors.js';
import type { CorralPaths } from '../../config.js';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { TemplateStore } from '../templates.js';
import { DataRootTarget, type TemplateDefaults, type TemplateOrigin, type TemplateTarget } from './target.js';

const FORMAT: Record<TemplateOrigin['kind'], 'rootfs-tar' | 'docker-archive' | 'oci-layout'> = {
  'rootfs-tarball': 'rootfs-tar',
  'docker-save': 'docker-archive',
  oci: 'oci-layout',
};

/**
 * Imports land in the template store: one flattened layer (an idmapped lower per template), with
 * the image's defaults and where it came from in the store's record. The store names, digests and
 * renames it into place; a failed import leaves nothing.
 */
export class StoreTarget implements TemplateTarget {
  readonly layout = 'flat' as const;
  private readonly work: DataRootTarget;

  constructor(
    paths: CorralPaths,
    private readonly store: TemplateStore,
  ) {
    this.work = new DataRootTarget(paths);
  }

  workDir(): Promise<{ path: string; release(): Promise<void> }> {
    return this.work.workDir();
  }

  async assertFree(name: string): Promise<void> {
    const taken = await this.store.get(name).then(() => true, () => false);
    if (taken) throw new ConflictError(`template ${JSON.stringify(name)} already exists: choose another name (--name)`, { name });
  }

  async create(name: string, layers: string[], defaults: TemplateDefaults, origin: TemplateOrigin): Promise<void> {
    if (layers.length !== 1) throw new Error(`StoreTarget takes one flattened layer, got ${layers.length}`);
    const source: StoreOrigin = { kind: 'archive', format: FORMAT[origin.kind], file: '-', digest: origin.digest ?? '', ...(origin.tags?.[0] ? { tag: origin.tags[0] } : {}) };
    await this.store.add(name, {
      label: `${source.format} import`,
      produce: async (ctx) => {
        await mkdir(join(ctx.dir, 'layers'), { recursive: true });
        await rename(layers[0]!, join(ctx.dir, 'layers', '0'));
        return { layers: [{ own: '0' }], defaults, description: `imported ${source.format}${source.tag ? ` ${source.tag}` : ''}`, source, parent: null };
      },
    });
  }
}
