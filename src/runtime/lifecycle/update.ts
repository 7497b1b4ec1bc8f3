import type { ContainerConfig, DiskConfig } from '../../api/types.js';
import { parseStorageOpt } from '../../storage/size.js';
import { formatBytes } from '../../util/quantity.js';
import type { AppliedSetting } from '../../cgroups/limits.js';
import { ValidationError } from '../../errors.js';
import { limitsFromFlags, readHostResources } from '../limits.js';
import { mergeApplied, mergeLimits } from '../limits-merge.js';
import { formatRestartPolicy, parseRestartPolicy } from '../restart-policy.js';
import { validateLabels, validateLimitRequest } from '../spec.js';
import type { Runtime } from './context.js';
import { cpuPinsOf } from './create.js';
import { stateOf } from './inspect.js';

/** Change limits in place: a running container keeps its pid; the new values are enforced at once. */
export async function updateContainer(rt: Runtime, ref: string, body: unknown): Promise<{ id: string; applied: AppliedSetting[] }> {
  const c = rt.resolve(ref);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('update: expected an object');
  // Limits, plus two things a running container can take without a restart: its restart
  // policy and its labels (manifests keep their ownership labels current this way).
  const { restart, labels, storageOpt, ...limitBody } = body as Record<string, unknown>;
  const request = validateLimitRequest(limitBody, false);
  const restartPolicy = restart === undefined ? undefined : parseRestartPolicy(String(restart));
  const newLabels = labels === undefined ? undefined : validateLabels(labels);
  const disk = parseStorageOpt(storageOpt);
  if (storageOpt !== undefined && !disk) throw new ValidationError('update --storage-opt: only the size can change, e.g. --storage-opt size=20G');
  if (Object.keys(request).length === 0 && !restartPolicy && !newLabels && !disk) {
    throw new ValidationError('update: name at least one limit to change (e.g. --memory 512m), or --restart');
  }
  rt.host ??= await readHostResources();
  // A cpuset chosen for --cpus follows a new --cpus.
  const autoCpuset = c.limits.requested?.['cpuset-cpus']?.startsWith('from ') === true;
  const cpuPins = autoCpuset && request.cpusetCpus === undefined ? cpuPinsOf(rt, c.id) : undefined;
  const delta = Object.keys(request).length > 0 ? await limitsFromFlags(request, rt.host, { defaults: false, ...(cpuPins ? { cpuPins } : {}) }) : {};
  return rt.locks.run(c.id, async () => {
    const merged: ContainerConfig = {
      ...c,
      limits: mergeLimits(c.limits, delta),
      limitRequest: { ...c.limitRequest, ...request },
      ...(restartPolicy ? { restartPolicy } : {}),
      ...(newLabels ? { labels: newLabels } : {}),
    };
    const warnings: string[] = [];
    if (disk) merged.storage = await resizeDisk(rt, c, disk.sizeBytes, warnings);
    let applied: AppliedSetting[] = [];
    if (Object.keys(request).length > 0 && (await stateOf(rt, c.id)).status === 'running') {
      applied = await rt.deps.cgroups.apply(c.id, delta, { ignoreMissing: c.ignoreMissingLimits });
      await rt.store.writeApplied(c.id, mergeApplied(await rt.store.readApplied(c.id), applied));
    }
    await rt.store.writeConfig(merged);
    rt.index.add(merged);
    rt.log.info('container updated', { id: c.id, name: c.name, request, restart: restartPolicy ? formatRestartPolicy(restartPolicy) : undefined });
    const attrs: Record<string, string> = Object.fromEntries(Object.entries(request).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
    if (restartPolicy) attrs.restart = formatRestartPolicy(restartPolicy);
    if (newLabels) attrs.labels = Object.keys(newLabels).join(',');
    if (disk) attrs.storageSize = String(disk.sizeBytes);
    rt.deps.events?.record('update', c, attrs);
    return { id: c.id, applied, ...(warnings.length > 0 ? { warnings } : {}) };
  });
}

/**
 * `--storage-opt size=`: a disk only grows. ext4 grows online only with CAP_SYS_RESOURCE in the
 * resizing process, so a stopped container's disk grows now and a running one's at its next start.
 */
async function resizeDisk(rt: Runtime, c: ContainerConfig, sizeBytes: number, warnings: string[]): Promise<DiskConfig> {
  if (!c.storage) throw new ValidationError(`update ${c.name} --storage-opt size: the container has no disk quota; one is given at create (--storage-opt size=…)`);
  const from = c.storage.sizeBytes;
  if (sizeBytes < from) throw new ValidationError(`update ${c.name} --storage-opt size=${formatBytes(sizeBytes)}: the disk is ${formatBytes(from)} and cannot shrink (create a new container for a smaller one)`);
  if (sizeBytes === from) return c.storage;
  if ((await stateOf(rt, c.id)).status === 'running') {
    warnings.push(`the disk of ${c.name} grows from ${formatBytes(from)} to ${formatBytes(sizeBytes)} at its next start (it grows while the container is stopped)`);
  } else {
    await rt.disks.grow(rt.store.dir(c.id), sizeBytes);
  }
  return { ...c.storage, sizeBytes };
}
