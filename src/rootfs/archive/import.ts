import type { ImportResult } from '../../api/types.js';
import { join } from 'node:path';
import { ValidationError } from '../../errors.js';
import { validateName } from '../../util/names.js';
import { extractTar } from './extract.js';
import { readImage } from './image.js';
import { nameFromReference } from './image-name.js';
import { flattenLayers, layerDirs } from './layers.js';
import type { ExtractLimits } from './limits.js';
import type { TemplateDefaults, TemplateTarget } from './target.js';

/** The PATH a template gets when its source sets none (Docker's default). */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ImportOptions {
  limits?: Partial<ExtractLimits>;
}

export type { ImportResult };

/** `corral template import NAME FILE|-`: a rootfs tarball (tar, gzip, xz, zstd, bzip2) as template NAME. */
export async function importRootfs(target: TemplateTarget, name: string, source: AsyncIterable<Buffer>, opts: ImportOptions = {}): Promise<ImportResult> {
  validateName(name, 'template name');
  await target.assertFree(name);
  const warnings: string[] = [];
  const work = await target.workDir();
  try {
    const dest = join(work.path, 'rootfs');
    const r = await extractTar(source, dest, { ...opts, warn: (m) => warnings.push(m) });
    const defaults: TemplateDefaults = { command: ['sh'], entrypoint: [], env: [DEFAULT_PATH], workdir: '', user: '', stopSignal: '' };
    await target.create(name, [dest], defaults, { kind: 'rootfs-tarball', compression: r.compression });
    return { name, layers: 1, entries: r.entries, bytes: r.bytes, warnings, tags: [] };
  } finally {
    await work.release();
  }
}

/**
 * `corral template load -i FILE|-`: a docker-save archive or an OCI image layout (as a tar stream)
 * as a template named `name`, or after the image's tag. The outer archive is extracted with the
 * same rules as any layer; blobs are verified before any layer is applied.
 */
export async function loadImage(target: TemplateTarget, source: AsyncIterable<Buffer>, opts: ImportOptions & { name?: string } = {}): Promise<ImportResult> {
  if (opts.name !== undefined) {
    validateName(opts.name, 'template name');
    await target.assertFree(opts.name);
  }
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(m);
  const work = await target.workDir();
  try {
    const archive = join(work.path, 'archive');
    await extractTar(source, archive, { ...opts, warn });
    const image = await readImage(archive);
    const name = opts.name ?? image.tags.map(nameFromReference).find((n) => n !== undefined);
    if (name === undefined) throw new ValidationError(`the image has no tag to name the template after${image.tags.length ? ` (${image.tags.join(', ')})` : ''}: give one with --name NAME`);
    await target.assertFree(name);
    const dest = join(work.path, 'layers');
    let dirs: string[];
    let r: { entries: number; bytes: number };
    if (target.layout === 'flat') {
      r = await flattenLayers(image.layers, dest, { ...opts, warn });
      dirs = [dest];
    } else {
      const out = await layerDirs(image.layers, dest, { ...opts, warn });
      r = out;
      dirs = out.dirs;
    }
    const c = image.config;
    const env = c.env.some((e) => e.startsWith('PATH=')) ? c.env : [DEFAULT_PATH, ...c.env];
    const defaults: TemplateDefaults = { command: c.cmd ?? [], entrypoint: c.entrypoint ?? [], env, workdir: c.workingDir, user: c.user, stopSignal: c.stopSignal };
    await target.create(name, dirs, defaults, { kind: image.format === 'oci' ? 'oci' : 'docker-save', digest: image.id, tags: image.tags, layers: image.layers.map((l) => l.digest) });
    return { name, layers: image.layers.length, entries: r.entries, bytes: r.bytes, warnings, tags: image.tags, id: image.id };
  } finally {
    await work.release();
  }
}
