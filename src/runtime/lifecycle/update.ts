import type { ContainerConfig } from '../../api/types.js';
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
  const { restart, labels, ...limitBody } = body as Record<string, unknown>;
  const request = validateLimitRequest(limitBody, false);
  const restartPolicy = restart === undefined ? undefined : parseRestartPolicy(String(restart));
  const newLabels = labels === undefined ? undefined : validateLabels(labels);
  if (Object.keys(request).length === 0 && !restartPolicy && !newLabels) {
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
    rt.deps.events?.record('update', c, attrs);
    return { id: c.id, applied };
  });
}
