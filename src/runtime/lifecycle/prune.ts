import type { PruneReport } from '../../api/types.js';
import { InvalidStateError, NotFoundError } from '../../errors.js';
import { treeSize } from '../../util/tree-size.js';
import type { Runtime } from './context.js';
import { visibleState } from './inspect.js';
import { removeContainer } from './remove.js';

/**
 * Docker's `container prune`: remove every stopped container (created or exited; not running,
 * paused, restarting, nor a quarantined one). One started meanwhile is refused by remove and kept.
 */
export async function pruneContainers(rt: Runtime): Promise<PruneReport> {
  const report: PruneReport = { deleted: [], spaceReclaimed: 0 };
  for (const c of rt.index.all()) {
    const { status } = await visibleState(rt, c.id);
    if (status !== 'exited' && status !== 'created') continue;
    const size = await treeSize(rt.store.layout(c.id).upper).catch(() => 0);
    try {
      await removeContainer(rt, c.id, false);
    } catch (err) {
      if (err instanceof InvalidStateError || err instanceof NotFoundError) continue;
      throw err;
    }
    report.deleted.push({ id: c.id, name: c.name });
    report.spaceReclaimed += size;
  }
  rt.log.info('containers pruned', { count: report.deleted.length, bytes: report.spaceReclaimed });
  return report;
}
