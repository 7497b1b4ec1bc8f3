import type { ContainerInspect } from '../../api/types.js';
import type { CorralClient } from '../../client/client.js';
import type { ManifestContainer } from '../../manifest/index.js';
import { formatRestartPolicy } from '../../runtime/restart-policy.js';
import { resolveCapabilities } from '../../security/capabilities.js';
import { LABEL_HASH, LABEL_MANIFEST, type LoadedManifest } from './load.js';
import { inManifestUnits, writtenLimit } from './units.js';

export interface Change {
  field: string;
  from: unknown;
  to: unknown;
}

export type Action =
  | { kind: 'create'; name: string; container: ManifestContainer }
  | { kind: 'recreate'; name: string; container: ManifestContainer; changes: Change[]; outside: boolean }
  | { kind: 'update'; name: string; container: ManifestContainer; changes: Change[]; outside: boolean }
  | { kind: 'start'; name: string; container: ManifestContainer }
  | { kind: 'keep'; name: string; container: ManifestContainer }
  | { kind: 'delete'; name: string; id: string }
  | { kind: 'conflict'; name: string; reason: string };

export interface Plan {
  actions: Action[];
  /** Networks the manifest names that do not exist yet: apply creates them first. */
  networks: string[];
  /** True when apply would change anything. */
  pending: boolean;
}

/** Environment variables corrald adds itself; not the manifest's business. */
const IMPLICIT_ENV = new Set(['PATH', 'HOSTNAME', 'HOME', 'TERM']);

/**
 * What apply would do, from the manifest and the live containers: create what is missing,
 * update in place what a running process can take (limits, restart policy, labels), recreate
 * what it cannot (template, command, env, mounts, user, capabilities, health check), start what
 * is stopped, and with prune delete what came from this manifest and left it.
 */
export async function makePlan(client: CorralClient, m: LoadedManifest, opts: { prune: boolean; adopt?: boolean }): Promise<Plan> {
  const live = await client.list({ all: true });
  const networks = await missingNetworks(client, m);
  const byName = new Map(live.map((c) => [c.name, c]));
  const actions: Action[] = [];
  for (const name of m.spec.startOrder) {
    const want = m.spec.containers.find((c) => c.name === name)!;
    const have = byName.get(name);
    if (!have) {
      actions.push({ kind: 'create', name, container: want });
      continue;
    }
    const info = await client.inspect(have.id);
    const ownedBy = info.config.labels[LABEL_MANIFEST];
    // --adopt takes over what another manifest made (this one moved, or was renamed with --project):
    // the ownership label is then an in-place label update like any other.
    if (ownedBy !== m.owner && !(opts.adopt && ownedBy)) {
      actions.push({ kind: 'conflict', name, reason: ownedBy ? `it belongs to ${ownedBy} (--adopt takes it over)` : 'it was not made by a manifest (remove or rename it)' });
      continue;
    }
    // Unchanged manifest but different container: somebody changed it outside the manifest.
    const outside = ownedBy === m.owner && info.config.labels[LABEL_HASH] === want.configHash;
    const { recreate, update } = diff(want, info);
    if (recreate.length > 0) actions.push({ kind: 'recreate', name, container: want, changes: [...recreate, ...update], outside });
    else if (update.length > 0) actions.push({ kind: 'update', name, container: want, changes: update, outside });
    else if (info.state.status !== 'running' && info.state.status !== 'restarting' && !isOneShot(want)) actions.push({ kind: 'start', name, container: want });
    else actions.push({ kind: 'keep', name, container: want });
  }
  if (opts.prune) {
    const wanted = new Set(m.spec.containers.map((c) => c.name));
    for (const c of live) {
      if (wanted.has(c.name)) continue;
      const info = await client.inspect(c.id);
      if (info.config.labels[LABEL_MANIFEST] === m.owner) actions.push({ kind: 'delete', name: c.name, id: c.id });
    }
  }
  return { actions, networks, pending: networks.length > 0 || actions.some((a) => a.kind !== 'keep') };
}

/** The user networks the manifest's containers join that corrald does not have. */
async function missingNetworks(client: CorralClient, m: LoadedManifest): Promise<string[]> {
  const named = [...new Set(m.spec.containers.flatMap((c) => c.request.network ?? []))].filter((n) => n !== 'bridge' && n !== 'host' && n !== 'none');
  if (named.length === 0) return [];
  const have = new Set((await client.networks()).map((n) => n.name));
  return named.filter((n) => !have.has(n));
}

/** A batch job (restart no) that ran is done, not stopped: apply does not start it again. */
function isOneShot(c: ManifestContainer): boolean {
  return c.restart.name === 'no';
}

export function diff(want: ManifestContainer, have: ContainerInspect): { recreate: Change[]; update: Change[] } {
  const r = want.request;
  const c = have.config;
  const recreate: Change[] = [];
  const update: Change[] = [];
  const cmp = (list: Change[], field: string, from: unknown, to: unknown): void => {
    if (JSON.stringify(from) !== JSON.stringify(to)) list.push({ field, from, to });
  };
  cmp(recreate, 'template', c.template, r.template);
  if (r.command) cmp(recreate, 'command', c.command, r.command);
  const wantEnv = [...(r.env ?? [])].sort();
  const haveEnv = c.env.filter((e) => !IMPLICIT_ENV.has(e.slice(0, e.indexOf('=')))).sort();
  cmp(recreate, 'env', haveEnv, wantEnv.filter((e) => !IMPLICIT_ENV.has(e.slice(0, e.indexOf('=')))));
  cmp(recreate, 'workdir', c.workdir, r.workdir ?? '/');
  cmp(recreate, 'user', c.user, r.user ?? '0:0');
  cmp(recreate, 'hostname', c.hostname, r.hostname ?? want.name);
  cmp(recreate, 'readOnly', c.readOnly, r.readOnly ?? false);
  cmp(recreate, 'init', c.init, r.init ?? false);
  cmp(recreate, 'volumes', c.volumes, (r.volumes ?? []).map((v) => ({ ...v, readOnly: v.readOnly ?? false })));
  cmp(recreate, 'capabilities', c.capabilities, resolveCapabilities(r.capAdd ?? [], r.capDrop ?? []));
  cmp(recreate, 'healthcheck', c.healthcheck, want.healthcheck);
  cmp(recreate, 'limits.oomScoreAdj', c.oomScoreAdj, r.limits?.oomScoreAdj === undefined ? null : Number(r.limits.oomScoreAdj));
  const { oomScoreAdj: _a, ...wantLimits } = r.limits ?? {};
  const { oomScoreAdj: _b, ...haveLimits } = c.limitRequest;
  for (const k of new Set([...Object.keys(wantLimits), ...Object.keys(haveLimits)])) {
    const to = (wantLimits as Record<string, unknown>)[k];
    const from = (haveLimits as Record<string, unknown>)[k] ?? null;
    if (JSON.stringify(from) === JSON.stringify(to ?? null)) continue;
    // A limit that leaves the manifest goes back to the default: only a new container has that.
    // Shown in the manifest's units: its own text, and the live value converted.
    const list = to === undefined ? recreate : update;
    list.push({ field: `limits.${k}`, from: inManifestUnits(k, from), to: to === undefined ? null : (writtenLimit(want, k) ?? inManifestUnits(k, to)) });
  }
  cmp(update, 'restart', formatRestartPolicy(c.restartPolicy), formatRestartPolicy(want.restart));
  const labels = (l: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(l).filter(([k]) => k !== LABEL_HASH).sort());
  cmp(update, 'labels', labels(c.labels), labels(r.labels ?? {}));
  return { recreate, update };
}
