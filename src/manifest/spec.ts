import { createHash } from 'node:crypto';
import { LIMIT_KEYS, type LimitRequestKey } from '../api/limit-keys.js';
import type { CreateRequest, HealthConfig, LimitRequest, VolumeSpec } from '../api/types.js';
import { HEALTH_DEFAULTS } from '../runtime/healthcheck.js';
import { type RestartPolicy, formatRestartPolicy, parseRestartPolicy } from '../runtime/restart-policy.js';
import type { ManifestIssue, Pos } from './issues.js';
import { checkContainerPath, millicoresToCpus, parseBytes, parseCpu, parseDisk, parseDuration, parseMemory, parseVolume, resolveHostPath } from './units.js';
import type { LMap, LScalar, LValue } from './yaml-tree.js';

export type { HealthConfig, RestartPolicy };

export type DependencyCondition = 'started' | 'healthy';

export interface Dependency {
  name: string;
  condition: DependencyCondition;
}

/** A value as written in the manifest, and where. */
export interface Written {
  text: string;
  pos: Pos;
}

export interface ManifestContainer {
  name: string;
  /**
   * The body for POST /v1/containers: limits converted from Kubernetes units to the exact byte and
   * CPU counts corrald's Docker-style limit flags take (`256Mi` → `"268435456"`, `500m` → `"0.5"`);
   * restart and healthcheck in the form corrald parses (a healthcheck test as the argv to run,
   * durations in ms). Variables from `envFiles` and `inheritEnv` are not in `env` yet: the CLI
   * reads them.
   */
  request: CreateRequest & { name: string };
  /** Absolute paths of env files, in order (later files win; `request.env` wins over all). */
  envFiles: string[];
  /** Variables named without a value: copied from the CLI's environment (skipped if unset). */
  inheritEnv: string[];
  /** `request.restart`, parsed (`no` when not given). */
  restart: RestartPolicy;
  /** `request.healthcheck` as corrald will hold it; null without one or with `test: [NONE]`. */
  healthcheck: HealthConfig | null;
  /** Start these first (sorted by name). corrald does not order starts: `apply` has to. */
  dependsOn: Dependency[];
  /** sha256 of the canonical configuration (containerConfigHash): equal hashes, same container. */
  configHash: string;
  /** Where the container is declared (its key under containers:). */
  source: { file: string; line: number; col: number };
  /** Each limit as written, keyed by its path below the container (`limits.memory`, `oomScoreAdj`). */
  written: Record<string, Written>;
}

export interface ManifestSpec {
  file: string;
  /** In the order declared (documents, then keys). */
  containers: ManifestContainer[];
  /** A start order honouring dependsOn (stop and delete in reverse); ties keep declaration order. */
  startOrder: string[];
  /** Groups that may start together: each depends only on earlier groups. */
  startLevels: string[][];
  /** sha256 over every container's name and configHash. */
  manifestHash: string;
  warnings: ManifestIssue[];
}

/**
 * A container from its (schema-valid) map. Conversions cannot fail here: the schema's formats ran
 * the same functions already.
 */
export function buildContainer(name: string, node: LMap, keyPos: Pos, file: string, baseDir: string): ManifestContainer {
  const get = (key: string): LValue | undefined => node.entries.get(key)?.value;
  const written: Record<string, Written> = {};
  const note = (path: string, v: LValue | undefined): string | undefined => {
    if (v?.kind !== 'scalar') return undefined;
    written[path] = { text: v.text, pos: v.pos };
    return v.text;
  };

  const request: CreateRequest & { name: string } = { name, template: str(get('template')) };
  const argv = [...strings(get('command')), ...strings(get('args'))];
  if (argv.length > 0) request.command = argv;

  const env: string[] = [];
  const inheritEnv: string[] = [];
  const envNode = get('env');
  if (envNode?.kind === 'map') {
    for (const [k, e] of envNode.entries) {
      if (e.value.kind === 'scalar' && e.value.value === null) inheritEnv.push(k);
      else env.push(`${k}=${text(e.value)}`);
    }
  } else if (envNode?.kind === 'seq') {
    for (const item of strings(envNode)) (item.includes('=') ? env : inheritEnv).push(item);
  }
  if (env.length > 0) request.env = env;
  const envFileNode = get('envFile');
  const envFiles = (envFileNode?.kind === 'seq' ? strings(envFileNode) : envFileNode ? [str(envFileNode)] : []).map((p) => resolveHostPath(p, baseDir));

  const workdir = get('workdir');
  if (workdir) request.workdir = checkContainerPath(str(workdir));
  const user = get('user');
  if (user) request.user = text(user);
  const hostname = get('hostname');
  if (hostname) request.hostname = str(hostname);
  const volumes = get('volumes');
  if (volumes?.kind === 'seq' && volumes.items.length > 0) request.volumes = volumes.items.map((v) => volume(v, baseDir));
  for (const key of ['capAdd', 'capDrop'] as const) {
    const caps = strings(get(key));
    if (caps.length > 0) request[key] = caps;
  }
  for (const key of ['readOnly', 'init', 'boot'] as const) if (bool(get(key))) request[key] = true;
  const stopSignal = get('stopSignal');
  if (stopSignal) request.stopSignal = text(stopSignal);
  const labels = get('labels');
  if (labels?.kind === 'map' && labels.entries.size > 0) request.labels = Object.fromEntries([...labels.entries].map(([k, e]) => [k, text(e.value)]));

  const networks = strings(get('networks'));
  if (networks.length > 0) request.network = networks;
  const ip = get('ip');
  if (ip) request.ip = str(ip);
  const aliases = strings(get('aliases'));
  if (aliases.length > 0) request.networkAliases = aliases;
  const ports = strings(get('ports'));
  if (ports.length > 0) request.publish = ports;
  const dns = strings(get('dns'));
  if (dns.length > 0) request.dns = dns;
  // Kubernetes units (10Gi) → exact bytes for corrald's --storage-opt size.
  const disk = note('disk', get('disk'));
  if (disk !== undefined) request.storageOpt = { size: String(parseDisk(disk, 'disk')) };

  const limits = limitRequest(node, note);
  if (Object.keys(limits).length > 0) request.limits = limits;

  const restart = parseRestartPolicy(get('restart') ? str(get('restart')) : 'no');
  if (restart.name !== 'no') request.restart = formatRestartPolicy(restart);
  const healthcheck = health(get('healthcheck'));
  if (healthcheck) {
    const { test, intervalMs, timeoutMs, retries, startPeriodMs, onFailure } = healthcheck;
    request.healthcheck = { test, interval: `${intervalMs}ms`, timeout: `${timeoutMs}ms`, retries, startPeriod: `${startPeriodMs}ms`, onFailure };
  }
  const dependsOn = dependencies(get('dependsOn'));
  const c = { request, envFiles, inheritEnv, dependsOn };
  return { name, ...c, restart, healthcheck, configHash: containerConfigHash(c), source: { file, line: keyPos.line, col: keyPos.col }, written };
}

/**
 * Kubernetes quantities → the strings corrald's limit parser takes (plain bytes, decimal CPUs), for
 * each LimitRequest field a manifest sets (its `manifest` key in LIMIT_KEYS). `name` is the key's
 * last part, for messages.
 */
const FROM_MANIFEST: { [K in LimitRequestKey]?: (text: string, v: LValue | undefined, name: string) => string | number } = {
  cpus: (t) => millicoresToCpus(parseCpu(t)),
  cpuWeight: (_t, v) => num(v),
  cpusetCpus: (t) => t.trim(),
  cpusetMems: (t) => t.trim(),
  memory: (t, _v, name) => String(parseMemory(t, name)),
  memoryReservation: (t, _v, name) => String(parseMemory(t, name)),
  memorySwap: (t, _v, name) => (t.trim() === 'unlimited' ? '-1' : String(parseBytes(t, name))),
  oomScoreAdj: (_t, v) => num(v),
  pidsLimit: (t, v) => (t === 'unlimited' ? '-1' : String(num(v))),
  blkioWeight: (_t, v) => num(v),
};

/** The limits of a container's map, by the manifest keys of LIMIT_KEYS; device lists give `PATH:RATE` per entry. */
function limitRequest(container: LMap, note: (path: string, v: LValue | undefined) => string | undefined): LimitRequest {
  const out: Record<string, string | number | string[]> = {};
  const at = (node: LValue | undefined, keys: readonly string[]): LValue | undefined => {
    let v: LValue | undefined = node;
    for (const k of keys) v = v?.kind === 'map' ? v.entries.get(k)?.value : undefined;
    return v;
  };
  for (const e of LIMIT_KEYS) {
    if (!('manifest' in e)) continue;
    const [listPath, field] = e.manifest.split('[].');
    if (field === undefined) {
      const keys = e.manifest.split('.');
      const text = note(e.manifest, at(container, keys));
      if (text !== undefined) out[e.key] = FROM_MANIFEST[e.key]!(text, at(container, keys), keys.at(-1)!);
      continue;
    }
    const devices = at(container, listPath!.split('.'));
    if (devices?.kind !== 'seq') continue;
    devices.items.forEach((d, i) => {
      if (d.kind !== 'map') return;
      const path = note(`${listPath}[${i}].path`, d.entries.get('path')?.value) ?? '';
      const rate = note(`${listPath}[${i}].${field}`, d.entries.get(field)?.value);
      if (rate === undefined) return;
      const n = field.endsWith('Bps') ? parseBytes(rate, field) : num(d.entries.get(field)?.value);
      ((out[e.key] ??= []) as string[]).push(`${path}:${n}`);
    });
  }
  return out as LimitRequest;
}

function volume(v: LValue, baseDir: string): VolumeSpec {
  if (v.kind === 'scalar') return parseVolume(str(v), baseDir);
  const get = (k: string) => (v.kind === 'map' ? v.entries.get(k)?.value : undefined);
  return { source: resolveHostPath(str(get('source')), baseDir), target: checkContainerPath(str(get('target'))), readOnly: bool(get('readOnly')) };
}

/**
 * Docker's test forms → the argv corrald runs: `[CMD, prog, ...]` and a plain list run as is,
 * `[CMD-SHELL, script]` and a string with `sh -c`; `[NONE]` turns checking off (null).
 */
function health(v: LValue | undefined): HealthConfig | null {
  if (v?.kind !== 'map') return null;
  const get = (k: string) => v.entries.get(k)?.value;
  const t = get('test');
  const argv = t?.kind === 'scalar' ? ['CMD-SHELL', str(t)] : strings(t);
  if (argv[0] === 'NONE') return null;
  const test = argv[0] === 'CMD-SHELL' ? ['sh', '-c', argv[1] ?? ''] : argv[0] === 'CMD' ? argv.slice(1) : argv;
  const ms = (k: string, d: number) => (get(k) ? parseDuration(str(get(k))) : d);
  const onFailure = get('onFailure') ? (str(get('onFailure')) as HealthConfig['onFailure']) : 'none';
  return {
    test,
    intervalMs: ms('interval', HEALTH_DEFAULTS.intervalMs),
    timeoutMs: ms('timeout', HEALTH_DEFAULTS.timeoutMs),
    retries: get('retries') ? num(get('retries')) : HEALTH_DEFAULTS.retries,
    startPeriodMs: ms('startPeriod', HEALTH_DEFAULTS.startPeriodMs),
    onFailure,
  };
}

/** dependsOn as written (a list or a map), sorted by name. */
export function dependencies(v: LValue | undefined): Dependency[] {
  const out: Dependency[] = [];
  if (v?.kind === 'seq') for (const name of strings(v)) out.push({ name, condition: 'started' });
  if (v?.kind === 'map') {
    for (const [name, e] of v.entries) {
      const cond = e.value.kind === 'map' ? e.value.entries.get('condition')?.value : undefined;
      out.push({ name, condition: cond && str(cond) === 'healthy' ? 'healthy' : 'started' });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The identity of a container's configuration for plan and drift: sha256 of canonical JSON (keys
 * sorted, env sorted: its order does not matter once names are unique). The CLI can call it again
 * on the final request after reading env files.
 */
export function containerConfigHash(c: Pick<ManifestContainer, 'request' | 'envFiles' | 'inheritEnv' | 'dependsOn'>): string {
  const request = { ...c.request, ...(c.request.env ? { env: [...c.request.env].sort() } : {}) };
  return sha256(canonicalJson({ v: 1, request, envFiles: c.envFiles, inheritEnv: [...c.inheritEnv].sort(), dependsOn: c.dependsOn }));
}

/** sha256 over `name configHash` lines in name order. */
export function manifestHash(containers: readonly Pick<ManifestContainer, 'name' | 'configHash'>[]): string {
  const lines = containers.map((c) => `${c.name} ${c.configHash}\n`).sort();
  return sha256(`corral-manifest v1\n${lines.join('')}`);
}

/** JSON with object keys sorted at every level and undefined members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function str(v: LValue | undefined): string {
  return v?.kind === 'scalar' && typeof v.value === 'string' ? v.value : '';
}
/** A scalar as a string: strings as they are, numbers and booleans as written (`1.10` stays `1.10`). */
function text(v: LValue): string {
  return v.kind !== 'scalar' ? '' : typeof v.value === 'string' ? v.value : (v as LScalar).text;
}
function num(v: LValue | undefined): number {
  return v?.kind === 'scalar' && typeof v.value === 'number' ? v.value : NaN;
}
function bool(v: LValue | undefined): boolean {
  return v?.kind === 'scalar' && v.value === true;
}
function strings(v: LValue | undefined): string[] {
  return v?.kind === 'seq' ? v.items.map(str) : [];
}
