import type { AppliedSetting, Limits } from '../cgroups/limits.js';

/**
 * An update changes only what it names: merge per controller (and per device for io), so
 * `update --cpus 1` keeps the memory limit in force.
 */
export function mergeLimits(base: Limits, delta: Limits): Limits {
  const out: Limits = { ...base };
  if (delta.cpu) out.cpu = { ...base.cpu, ...delta.cpu };
  if (delta.cpuset) out.cpuset = { ...base.cpuset, ...delta.cpuset };
  if (delta.memory) out.memory = { ...base.memory, ...delta.memory };
  if (delta.pids) out.pids = { ...delta.pids };
  if (delta.io) {
    const devices = { ...base.io?.devices };
    for (const [dev, t] of Object.entries(delta.io.devices ?? {})) {
      devices[dev] = { ...devices[dev], ...t, requested: { ...devices[dev]?.requested, ...t.requested } };
    }
    out.io = { ...base.io, ...delta.io, ...(Object.keys(devices).length ? { devices } : {}) };
  }
  if (delta.requested) out.requested = { ...base.requested, ...delta.requested };
  return out;
}

/** The latest setting per (limit, file) wins. */
export function mergeApplied(base: readonly AppliedSetting[], update: readonly AppliedSetting[]): AppliedSetting[] {
  const key = (a: AppliedSetting): string => `${a.limit}\0${a.file}`;
  const map = new Map(base.map((a) => [key(a), a]));
  for (const a of update) map.set(key(a), a);
  return [...map.values()];
}
