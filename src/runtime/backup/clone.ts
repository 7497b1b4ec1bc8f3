import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lchown, lstat, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloneRequest, ContainerConfig, RestoreResult } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import { validateName } from '../../util/names.js';
import type { Runtime } from '../lifecycle/context.js';
import { stateOf } from '../lifecycle/inspect.js';
import { backupContainer, type TemplateAccess } from './backup.js';
import { onLayer, restoreBackup } from './restore.js';

export interface CloneResult extends RestoreResult {
  /** How long the original was frozen for the copy (0 when it was not running). */
  frozenMs: number;
}

/**
 * `corral clone C NEW`: a backup of C streamed straight into a restore, with what makes a
 * container itself changed: a new id, name, hostname, id range and machine-id, no fixed
 * address, and no host ports unless given (C's would clash with C's). The template is shared.
 * A running C is frozen for the copy, so the clone is one instant of it.
 */
export async function cloneContainer(rt: Runtime, templates: TemplateAccess, ref: string, req: CloneRequest): Promise<CloneResult> {
  const c = rt.resolve(ref);
  const name = validateName(req.name);
  if (req.publish !== undefined && (!Array.isArray(req.publish) || !req.publish.every((p) => typeof p === 'string'))) throw new ValidationError('clone: publish must be a list of strings');
  const running = (await stateOf(rt, c.id)).status === 'running';
  const wasFrozen = running && (await rt.deps.cgroups.frozen(c.id).catch(() => false));
  const t0 = performance.now();
  if (running && !wasFrozen) await rt.deps.cgroups.freeze(c.id);
  let frozenMs = 0;
  let result: RestoreResult;
  try {
    const b = await backupContainer(rt, templates, c.id, { compression: 'none' });
    result = await restoreBackup(rt, templates, b.chunks, {
      name,
      // The original's binds were accepted when it was created here.
      allowHostBinds: true,
      adjust: () => ({ hostname: name.slice(0, 63), ip: undefined, publish: req.publish ?? [] }),
    });
  } finally {
    if (running && !wasFrozen) await rt.deps.cgroups.thaw(c.id);
    if (running) frozenMs = Math.round(performance.now() - t0);
  }
  const clone = rt.resolve(result.id);
  await newMachineId(rt, clone, (await templates.layerDirs(clone.template))[0]!);
  return { ...result, frozenMs };
}

/** systemd and D-Bus tell machines apart by /etc/machine-id: a clone that has one gets its own. */
async function newMachineId(rt: Runtime, c: ContainerConfig, lower: string): Promise<void> {
  await onLayer(rt, c, async (upper) => {
    const inUpper = await lstat(join(upper, 'etc', 'machine-id')).catch(() => undefined);
    const inLower = await lstat(join(lower, 'etc', 'machine-id')).catch(() => undefined);
    if (!(inUpper?.isFile() || (inUpper === undefined && inLower?.isFile() && inLower.size > 0))) return;
    const etc = await lstat(join(upper, 'etc')).catch(() => undefined);
    const owner = c.userns.mode === 'private' ? { uid: c.userns.uidBase, gid: c.userns.gidBase } : { uid: 0, gid: 0 };
    if (etc === undefined) {
      await mkdir(join(upper, 'etc'), { mode: 0o755 });
      await lchown(join(upper, 'etc'), owner.uid, owner.gid);
    } else if (!etc.isDirectory()) return;
    const file = join(upper, 'etc', 'machine-id');
    const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o444);
    try {
      await fh.writeFile(`${randomBytes(16).toString('hex')}\n`);
      if (!inUpper) await fh.chown(owner.uid, owner.gid);
    } finally {
      await fh.close();
    }
    if (!inUpper) await chmod(file, 0o444);
  });
}
