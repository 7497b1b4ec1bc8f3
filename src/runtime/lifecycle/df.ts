import type { DiskUsage, TemplateInfo } from '../../api/types.js';
import { treeSize } from '../../util/tree-size.js';
import type { Runtime } from './context.js';
import { visibleState } from './inspect.js';

/**
 * Docker's `system df`: templates (their recorded size, and how many containers use each), each
 * container's writable layer, and the host directories bound in as volumes (Corral has no volume
 * store of its own: they are listed with who uses them, their size is left to the host's `du`).
 */
export async function diskUsage(rt: Runtime, templates: readonly TemplateInfo[]): Promise<DiskUsage> {
  const configs = rt.index.all();
  const containers = await Promise.all(
    configs.map(async (c) => ({
      id: c.id,
      name: c.name,
      template: c.template,
      status: (await visibleState(rt, c.id)).status,
      size: await treeSize(rt.store.layout(c.id).upper).catch(() => 0),
    })),
  );
  const volumes = new Map<string, DiskUsage['volumes'][number]>();
  for (const c of configs) {
    for (const v of c.volumes) {
      if (v.type === 'tmpfs') continue;
      const entry = volumes.get(v.source) ?? { source: v.source, target: v.target, containers: [], size: null };
      entry.containers.push(c.name);
      volumes.set(v.source, entry);
    }
  }
  return {
    templates: templates.filter((t) => t.built).map((t) => ({ name: t.name, size: t.sizeBytes ?? 0, containers: configs.filter((c) => c.template === t.name).length })),
    containers,
    volumes: [...volumes.values()],
  };
}
