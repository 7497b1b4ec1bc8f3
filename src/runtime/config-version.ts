import type { ContainerConfig } from '../api/types.js';
import { UNCONFINED_SECCOMP } from '../security/seccomp.js';
import { HOST_USERNS, NONE_NETWORK_CONFIG } from './spec.js';

/**
 * config.json carries a `version`; each migration takes a record one version up. A record newer
 * than this build reads is not guessed at: the container is quarantined, never rewritten.
 */
export const CONFIG_VERSION = 4;

type Raw = Record<string, unknown>;

const MIGRATIONS: readonly ((c: Raw) => Raw)[] = [
  // 0 → 1: records written before limits, restart policies, health checks and networking existed
  // get what those features mean when absent (no limits, no restart, loopback only).
  (c) => ({
    ...c,
    limits: c.limits ?? {},
    limitRequest: c.limitRequest ?? {},
    ignoreMissingLimits: c.ignoreMissingLimits ?? false,
    oomScoreAdj: c.oomScoreAdj ?? null,
    restartPolicy: c.restartPolicy ?? { name: 'no', maxRetries: null },
    healthcheck: c.healthcheck ?? null,
    network: c.network ?? NONE_NETWORK_CONFIG,
  }),
  // 1 → 2: records written before seccomp ran their containers without a filter, and still do
  // (their directories hold no seccomp files; recreate a container to get the default profile).
  (c) => ({ ...c, seccomp: c.seccomp ?? UNCONFINED_SECCOMP }),
  // 2 → 3: records written before user namespaces existed share the host's (their upper layer is
  // owned by host root, which no private range could write).
  (c) => ({ ...c, userns: c.userns ?? HOST_USERNS }),
  // 3 → 4: records written before system containers and --stop-signal ran their program, and
  // stop sent SIGTERM.
  (c) => ({ ...c, boot: c.boot ?? false, stopSignal: c.stopSignal ?? 'SIGTERM' }),
];

/** Why a record cannot be read as a container's config, or the config brought up to date. */
export function migrateConfig(raw: unknown): { config: ContainerConfig } | { problem: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problem: 'config.json is not a JSON object' };
  const { version = 0, ...rest } = raw as Raw;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) return { problem: `config.json has an invalid version ${JSON.stringify(version)}` };
  if (version > CONFIG_VERSION) return { problem: `config.json was written by a newer Corral (version ${version}; this one reads up to ${CONFIG_VERSION})` };
  let c: Raw = rest;
  for (let v = version; v < CONFIG_VERSION; v++) c = MIGRATIONS[v]!(c);
  for (const key of ['id', 'name', 'template', 'createdAt'] as const) {
    if (typeof c[key] !== 'string') return { problem: `config.json lacks "${key}"` };
  }
  if (!Array.isArray(c.command) || !Array.isArray(c.env) || !Array.isArray(c.volumes)) return { problem: 'config.json lacks command, env or volumes' };
  return { config: c as unknown as ContainerConfig };
}

/** The record as written: the version first, so a reader knows how to take the rest. */
export function storedConfig(c: ContainerConfig): Raw {
  return { version: CONFIG_VERSION, ...c };
}
