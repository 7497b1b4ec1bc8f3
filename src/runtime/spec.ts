import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { LIMIT_KEY, type LimitKey, type LimitRequestKey } from '../api/limit-keys.js';
import type { ContainerConfig, ContainerNetworkConfig, CreateRequest, ExposedPort, LimitRequest, UsernsConfig, VolumeSpec } from '../api/types.js';
import { formatIpv4, parseIpv4 } from '../network/ipv4.js';
import { parsePortMappings } from '../network/ports.js';
import { ValidationError } from '../errors.js';
import { generateName, newId, validateName } from '../util/names.js';
import { containerPath } from '../util/paths.js';
import { resolveCapabilities } from '../security/capabilities.js';
import { parseSecurityOpts, seccompForContainer, type SeccompFiles } from '../security/seccomp.js';
import { DEFAULT_PATH_ENV } from './defaults.js';
import { NO_RESTART, parseRestartPolicy } from './restart-policy.js';
import { parseHealthcheck } from './healthcheck.js';
import { parseStorageOpt } from '../storage/size.js';
import { BOOT_STOP_SIGNAL, normalizeStopSignal } from './stop-signal.js';

/**
 * Parse and validate a create request once, at the edge: the rest of the runtime only sees a
 * ContainerConfig. Each check is small and throws a ValidationError that names the field.
 */
export function configFromRequest(
  raw: unknown,
  templateEnv: readonly string[] = [DEFAULT_PATH_ENV],
  defaultCommand: readonly string[] = ['sh'],
  o: { defaultNetwork?: readonly string[]; defaultUserns?: 'private' | 'host' } & TemplateRunDefaults = {},
): ContainerConfig {
  const req = asObject(raw, 'request body');
  const known = new Set(['name', 'template', 'command', 'entrypoint', 'env', 'workdir', 'user', 'hostname', 'readOnly', 'volumes', 'userns', 'lxcfs', 'capAdd', 'capDrop', 'init', 'tty', 'interactive', 'autoRemove', 'labels', 'limits', 'ignoreMissingLimits', 'restart', 'healthcheck', 'storageOpt', 'securityOpt', 'seccompSource', 'boot', 'stopSignal', ...NETWORK_FIELDS]);
  for (const k of Object.keys(req)) if (!known.has(k)) throw new ValidationError(`unknown field ${JSON.stringify(k)} in create request`);
  const r = req as Partial<CreateRequest>;

  const name = r.name === undefined ? generateName() : validateName(str(r.name, 'name'));
  const template = validateName(str(r.template, 'template'), 'template name');
  const boot = bool(r.boot, 'boot');
  // A system container boots the template's init unless told which program is its init.
  const command = boot && (r.command === undefined || (Array.isArray(r.command) && r.command.length === 0)) && r.entrypoint === undefined ? [BOOT_INIT] : programArgv(r, defaultCommand, o.entrypoint ?? []);
  if (command.some((a) => a.includes('\0'))) throw new ValidationError('command: arguments must not contain NUL bytes');
  if (command[0] === '') throw new ValidationError('command: the program name is empty');

  const env = mergeEnv(templateEnv, r.env === undefined ? [] : strArray(r.env, 'env'));
  const workdir = r.workdir === undefined || r.workdir === '' ? containerPath(o.workdir || '/', 'workdir') : containerPath(str(r.workdir, 'workdir'), 'workdir');
  const user = r.user === undefined || r.user === '' ? validateUser(o.user || '0:0') : validateUser(str(r.user, 'user'));
  const hostname = r.hostname === undefined || r.hostname === '' ? name.slice(0, 63) : validateHostname(str(r.hostname, 'hostname'));
  const volumes = r.volumes === undefined ? [] : arr(r.volumes, 'volumes').map((v, i) => validateVolume(v, i));
  const targets = new Set<string>();
  for (const v of volumes) {
    if (targets.has(v.target)) throw new ValidationError(`volumes: ${v.target} is mounted twice`);
    targets.add(v.target);
  }
  const network = parseNetworkRequest(r, o.defaultNetwork);
  const userns = parseUsernsRequest(r.userns ?? (o.defaultUserns === 'host' ? 'host' : undefined), network.mode);
  if (boot && userns.mode === 'host') throw new ValidationError(`boot: a system container needs its own user namespace (not --userns host${network.mode === 'host' ? ', which --network host implies' : ''}): its init gets every capability there`);
  const capabilities = resolveCapabilities(
    // Its init mounts, makes namespaces for services and manages cgroups: every capability, held
    // over its own user namespace only (as Incus' unprivileged containers).
    [...(boot ? ['ALL'] : []), ...(r.capAdd === undefined ? [] : strArray(r.capAdd, 'capAdd'))],
    r.capDrop === undefined ? [] : strArray(r.capDrop, 'capDrop'),
  );
  const labels = r.labels === undefined ? {} : validateLabels(r.labels);
  const seccomp = seccompFromRequest(r, capabilities).config;
  // Its console is a pty the monitor owns (corral console), with input.
  const tty = boot || bool(r.tty, 'tty');
  const limitRequest = r.limits === undefined ? {} : validateLimitRequest(r.limits);
  // The disk's backend is the data root's (probed by create); here only the options are checked.
  parseStorageOpt(r.storageOpt);
  const idmapped = volumes.find((v) => v.idmap);
  if (idmapped && userns.mode === 'host') throw new ValidationError(`volume ${idmapped.source}:${idmapped.target}:idmap: idmap needs the container's own user namespace (not --userns host${network.mode === 'host' ? ', which --network host implies' : ''})`);
  const id = newId();
  const withTerm = tty && !env.some((e) => e.startsWith('TERM=')) ? [...env, 'TERM=xterm'] : env;
  return {
    id,
    name,
    template,
    command,
    env: boot ? bootEnv(withTerm, id) : withTerm,
    workdir,
    user,
    hostname,
    readOnly: bool(r.readOnly, 'readOnly'),
    volumes,
    capabilities,
    init: bool(r.init, 'init'),
    tty,
    interactive: boot || bool(r.interactive, 'interactive'),
    autoRemove: bool(r.autoRemove, 'autoRemove'),
    labels,
    limitRequest,
    // Filled by limitsFromFlags (async: it stats device paths) before the container is committed.
    limits: {},
    ignoreMissingLimits: bool(r.ignoreMissingLimits, 'ignoreMissingLimits'),
    oomScoreAdj: limitRequest.oomScoreAdj === undefined ? null : parseOomScoreAdj(limitRequest.oomScoreAdj),
    healthcheck: r.healthcheck === undefined ? null : parseHealthcheck(r.healthcheck),
    restartPolicy: r.restart === undefined || r.restart === '' ? { ...NO_RESTART } : parseRestartPolicy(str(r.restart, 'restart')),
    network,
    seccomp,
    userns,
    ...(r.lxcfs === undefined || bool(r.lxcfs, 'lxcfs') ? {} : { lxcfs: false as const }),
    createdAt: new Date().toISOString(),
    boot,
    stopSignal: r.stopSignal === undefined || r.stopSignal === '' ? (boot ? BOOT_STOP_SIGNAL : o.stopSignal ? normalizeStopSignal(o.stopSignal, 'template stopSignal') : 'SIGTERM') : normalizeStopSignal(str(r.stopSignal, 'stopSignal')),
  };
}

/** What a system container's init is, unless the command names another. */
export const BOOT_INIT = '/sbin/init';

/**
 * systemd's container interface: `container` names the manager; `container_uuid` gives the
 * machine-id of a template whose /etc/machine-id is empty (fixed per container, as Podman does).
 */
function bootEnv(env: readonly string[], id: string): string[] {
  const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
  return [...env.filter((e) => !e.startsWith('container=') && !e.startsWith('container_uuid=')), 'container=corral', `container_uuid=${uuid}`];
}

/** A template's defaults beyond env and command (an image's Entrypoint, WorkingDir, User). */
export interface TemplateRunDefaults {
  entrypoint?: readonly string[];
  workdir?: string;
  user?: string;
  /** The image's StopSignal, when the request names none. */
  stopSignal?: string;
}

/**
 * Docker's rule: the program is entrypoint + arguments, the arguments being the request's command
 * or else the template's. `entrypoint` in the request (`--entrypoint`) replaces the template's
 * and drops its default command; `[]` (`--entrypoint ""`) clears it.
 */
function programArgv(r: Partial<CreateRequest>, defaultCommand: readonly string[], templateEntrypoint: readonly string[]): string[] {
  const given = r.command === undefined || (Array.isArray(r.command) && r.command.length === 0) ? undefined : strArray(r.command, 'command');
  const entrypoint = r.entrypoint === undefined ? [...templateEntrypoint] : strArray(r.entrypoint, 'entrypoint');
  const args = given ?? (r.entrypoint === undefined ? [...defaultCommand] : []);
  const argv = [...entrypoint, ...args];
  if (argv.length === 0) throw new ValidationError('command: none given, and the template has no default command or entrypoint');
  return argv;
}

/** `securityOpt` and `seccompSource` as the container's seccomp config and files (validated completely). */
export function seccompFromRequest(r: Partial<CreateRequest>, capabilities: readonly string[]): SeccompFiles {
  const opts = parseSecurityOpts(r.securityOpt === undefined ? [] : strArray(r.securityOpt, 'securityOpt'));
  return seccompForContainer(opts, capabilities, r.seccompSource === undefined ? null : str(r.seccompSource, 'seccompSource'));
}

/** `--userns host`: the container shares the host's user namespace (its root is host root). */
export const HOST_USERNS: UsernsConfig = { mode: 'host' };

/**
 * `--userns`: absent (or `private`) gives the container a user namespace of its own; its range is
 * taken from the pool at create (src/runtime/lifecycle/create.ts), size 0 until then. `--network
 * host` implies `host`, as Docker requires: a user namespace holds no capability over the host's
 * network namespace (no ports below 1024, no ping).
 */
export function parseUsernsRequest(raw: unknown, networkMode: ContainerNetworkConfig['mode']): UsernsConfig {
  const mode = raw === undefined || raw === '' ? undefined : str(raw, 'userns');
  if (mode !== undefined && mode !== 'host' && mode !== 'private') throw new ValidationError(`invalid --userns ${JSON.stringify(mode)}: host, or private (the default)`);
  if (mode === 'private' && networkMode === 'host') throw new ValidationError('--userns private cannot be combined with --network host: a user namespace holds no capability over the host\'s network namespace');
  if (mode === 'host' || networkMode === 'host') return { ...HOST_USERNS };
  return { mode: 'private', uidBase: 0, gidBase: 0, size: 0 };
}

const NETWORK_FIELDS = ['network', 'ip', 'networkAliases', 'publish', 'publishAll', 'expose', 'dns'] as const;
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** What a container gets when it asks for nothing: the default bridge network. */
export const DEFAULT_NETWORK_CONFIG: ContainerNetworkConfig = { mode: 'bridge', networks: [{ network: 'bridge', ip: null, aliases: [] }], ports: [], expose: [], publishAll: false, dns: [] };
/** Containers created before networking was wired in had a loopback-only namespace. */
export const NONE_NETWORK_CONFIG: ContainerNetworkConfig = { mode: 'none', networks: [], ports: [], expose: [], publishAll: false, dns: [] };

/**
 * `--network`, `--ip`, `--network-alias`, `-p`, `-P`, `--expose`, `--dns`: the shape and syntax.
 * Whether a network exists, an address is free or a host port is in use is checked at create by
 * src/runtime/networking.ts, before anything is made.
 */
export function parseNetworkRequest(r: Partial<CreateRequest>, defaultNetwork: readonly string[] = ['bridge']): ContainerNetworkConfig {
  const names = r.network === undefined || (Array.isArray(r.network) && r.network.length === 0) ? [...defaultNetwork] : strArray(r.network, 'network').map((n) => n.trim());
  const dns = r.dns === undefined ? [] : strArray(r.dns, 'dns').map((d) => {
    const v = d.trim();
    if (isIP(v) === 0) throw new ValidationError(`invalid --dns ${JSON.stringify(d)}: not an IP address`, { dns: d });
    return v;
  });
  const ip = r.ip === undefined || r.ip === '' ? null : str(r.ip, 'ip');
  const aliases = r.networkAliases === undefined ? [] : strArray(r.networkAliases, 'networkAliases').map((a) => validateAlias(a));
  const ports = r.publish === undefined ? [] : parsePortMappings(strArray(r.publish, 'publish'), '-p');
  const expose = r.expose === undefined ? [] : dedupeExpose(strArray(r.expose, 'expose').map(parseExpose));
  const publishAll = bool(r.publishAll, 'publishAll');
  for (const n of names) {
    if (n === '') throw new ValidationError('invalid --network "": empty');
    if (n.startsWith('container:')) throw new ValidationError(`--network ${n}: joining another container's network namespace is not supported`);
    if (!NETWORK_NAME.test(n)) throw new ValidationError(`invalid --network ${JSON.stringify(n)}: bridge, none, host or a network name ([A-Za-z0-9_.-], at most 64)`);
  }
  if (new Set(names).size !== names.length) throw new ValidationError(`--network: ${names.find((n, i) => names.indexOf(n) !== i)} is given twice`);
  const mode = names.includes('host') ? 'host' : names.includes('none') ? 'none' : 'bridge';
  if (mode !== 'bridge') {
    if (names.length > 1) throw new ValidationError(`--network ${mode} cannot be combined with other networks`);
    const given = [ip !== null && '--ip', aliases.length > 0 && '--network-alias', ports.length > 0 && '-p', publishAll && '-P'].filter(Boolean);
    if (given.length > 0) {
      throw new ValidationError(`${given.join(', ')}: need a bridge network; ${mode === 'host' ? "with --network host the container uses the host's own addresses and ports" : '--network none has only loopback'}`);
    }
    return { mode, networks: [], ports: [], expose, publishAll: false, dns };
  }
  let fixed: string | null = null;
  if (ip !== null) {
    const n = parseIpv4(ip.trim());
    if (n === undefined) throw new ValidationError(`invalid --ip ${JSON.stringify(ip)}: not an IPv4 address`, { ip });
    fixed = formatIpv4(n);
  }
  return {
    mode,
    networks: names.map((network, i) => ({ network, ip: i === 0 ? fixed : null, aliases })),
    ports,
    expose,
    publishAll,
    dns,
  };
}

/** `--expose 80`, `--expose 53/udp`. */
export function parseExpose(spec: string): ExposedPort {
  const m = /^(\d{1,5})(?:\/(tcp|udp))?$/i.exec(spec.trim());
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) throw new ValidationError(`invalid --expose ${JSON.stringify(spec)}: want PORT[/tcp|udp] with PORT in 1-65535`, { expose: spec });
  return { port, protocol: (m[2]?.toLowerCase() ?? 'tcp') as 'tcp' | 'udp' };
}

function dedupeExpose(list: ExposedPort[]): ExposedPort[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const k = `${e.port}/${e.protocol}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const ALIAS = /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9_-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9_-]*[a-zA-Z0-9])?)*$/;
function validateAlias(a: string): string {
  if (!ALIAS.test(a)) throw new ValidationError(`invalid --network-alias ${JSON.stringify(a)}: a host name (letters, digits, '-', '_' and '.', at most 63 characters)`);
  return a;
}

export function validateLabels(raw: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObject(raw, 'labels'))) {
    if (k === '' || typeof v !== 'string') throw new ValidationError(`labels: ${JSON.stringify(k)} must map a non-empty key to a string`);
    labels[k] = v;
  }
  return labels;
}

/**
 * The shape of a limits object (its fields from LIMIT_KEYS); the values themselves are checked by
 * limitsFromFlags. `allowCreateOnly` false (update): the create-only ones are unknown.
 */
export function validateLimitRequest(raw: unknown, allowCreateOnly = true): LimitRequest {
  const o = asObject(raw, 'limits');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const entry: LimitKey | undefined = Object.hasOwn(LIMIT_KEY, k) ? LIMIT_KEY[k as LimitRequestKey] : undefined;
    if (entry === undefined || (entry.createOnly && !allowCreateOnly)) throw new ValidationError(`unknown limit ${JSON.stringify(k)}`);
    if (entry.kind === 'list') out[k] = strArray(v, `limits.${k}`);
    else if (typeof v !== 'string' && typeof v !== 'number') throw new ValidationError(`limits.${k}: expected a string or a number`);
    else out[k] = v;
  }
  return out as LimitRequest;
}

export function parseOomScoreAdj(v: string | number): number {
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < -1000 || n > 1000) throw new ValidationError(`--oom-score-adj ${v}: expected a whole number from -1000 to 1000`);
  return n;
}

/** Later entries win, keyed by variable name; `K` alone is not allowed here (the CLI resolves it). */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = new Map<string, string>();
  for (const [i, e] of [...base, ...extra].entries()) {
    const eq = e.indexOf('=');
    if (eq <= 0) throw new ValidationError(`env[${i}] ${JSON.stringify(e)}: expected KEY=VALUE`);
    if (e.includes('\0')) throw new ValidationError(`env[${i}]: must not contain NUL bytes`);
    out.set(e.slice(0, eq), e);
  }
  return [...out.values()];
}

const USER_PART = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31}$/;
export function validateUser(u: string): string {
  const parts = u.split(':');
  if (parts.length > 2 || !parts.every((p) => USER_PART.test(p))) {
    throw new ValidationError(`user ${JSON.stringify(u)}: expected uid[:gid] or name[:group]`);
  }
  for (const p of parts) {
    if (/^\d+$/.test(p) && Number(p) > 0xfffffffe) throw new ValidationError(`user ${JSON.stringify(u)}: id out of range`);
  }
  return u;
}

const HOSTNAME = /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;
export function validateHostname(h: string): string {
  if (!HOSTNAME.test(h)) throw new ValidationError(`hostname ${JSON.stringify(h)}: expected letters, digits, '-' and '.', at most 63 characters`);
  return h;
}

function validateVolume(raw: unknown, i: number): VolumeSpec {
  const v = asObject(raw, `volumes[${i}]`) as Partial<VolumeSpec>;
  const source = str(v.source, `volumes[${i}].source`);
  if (!source.startsWith('/')) throw new ValidationError(`volume source ${JSON.stringify(source)}: must be an absolute host path`);
  try {
    statSync(source);
  } catch {
    throw new ValidationError(`volume source ${source}: no such file or directory on the host`);
  }
  const target = containerPath(str(v.target, `volumes[${i}].target`), `volume target`);
  if (target === '/') throw new ValidationError('volume target "/": cannot mount over the root filesystem');
  for (const reserved of ['/proc', '/sys', '/dev']) {
    if (target === reserved || target.startsWith(reserved + '/')) {
      throw new ValidationError(`volume target ${target}: ${reserved} is managed by corral`);
    }
  }
  const idmap = bool(v.idmap, `volumes[${i}].idmap`);
  return { source, target, readOnly: bool(v.readOnly, `volumes[${i}].readOnly`), ...(idmap ? { idmap } : {}) };
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(`${what}: expected an object`);
  return v as Record<string, unknown>;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ValidationError(`${what}: expected a string`);
  return v;
}
function bool(v: unknown, what: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ValidationError(`${what}: expected true or false`);
  return v;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ValidationError(`${what}: expected a list`);
  return v;
}
function strArray(v: unknown, what: string): string[] {
  return arr(v, what).map((x, i) => str(x, `${what}[${i}]`));
}
