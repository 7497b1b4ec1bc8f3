import type { TemplateInfo } from '../api/types.js';
import type { CorralPaths } from '../config.js';
import { ImportedTemplates } from '../rootfs/archive/target.js';
import { TemplateStore } from '../rootfs/templates.js';
import type { TemplateSource } from '../runtime/containers.js';
import { ExecaRunner } from '../system/runner.js';

/**
 * The daemon's templates: imported ones (`template import`/`load`, in the data root with their
 * defaults), then those built from rootfs-templates/ on first use.
 */
export function templateSource(paths: CorralPaths): TemplateSource & { list(): Promise<TemplateInfo[]> } {
  const store = new TemplateStore(paths, new ExecaRunner());
  const imported = new ImportedTemplates(paths);
  return {
    list: async () => [...(await store.list()), ...(await imported.list())],
    resolve: async (name) => {
      const t = await imported.get(name);
      if (!t) return store.resolve(name);
      return { rootfs: t.rootfs, env: t.env, command: t.command, entrypoint: t.entrypoint, workdir: t.workdir, user: t.user };
    },
  };
}
