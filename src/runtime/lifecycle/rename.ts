import type { ContainerConfig } from '../../api/types.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { validateName } from '../../util/names.js';
import type { Runtime } from './context.js';

/**
 * Docker's `rename`: a new name for a container, running or not. The name is checked as create
 * checks it, claimed in the index before config.json is rewritten (two renames cannot both take
 * it), and the peers' /etc/hosts follow. The hostname is left alone, as Docker leaves it.
 */
export async function renameContainer(rt: Runtime, ref: string, newName: unknown): Promise<ContainerConfig> {
  if (typeof newName !== 'string' || newName === '') throw new ValidationError('rename: the new name is empty');
  const name = validateName(newName);
  const c = rt.resolve(ref);
  return rt.locks.run(c.id, async () => {
    const cur = rt.index.get(c.id);
    if (!cur) throw new NotFoundError(`no such container: ${ref}`);
    if (cur.name === name) throw new ValidationError(`rename ${cur.name}: the container already has that name`, { name });
    rt.index.reserve(name, cur.id);
    const renamed: ContainerConfig = { ...cur, name };
    try {
      await rt.store.writeConfig(renamed);
    } catch (err) {
      rt.index.release(name, cur.id);
      throw err;
    }
    rt.index.release(cur.name, cur.id);
    rt.index.add(renamed);
    await rt.net?.renamed(cur.id, name);
    rt.log.info('container renamed', { id: cur.id, from: cur.name, to: name });
    rt.deps.events?.record('rename', renamed, { oldName: cur.name });
    return renamed;
  });
}
