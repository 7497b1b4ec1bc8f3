import { readFile, rm } from 'node:fs/promises';
import type {
  ContainerConfig,
  EndpointSettings,
  NetworkCreateRequest,
  NetworkInspect,
  NetworkSettings,
  NetworkSummary,
  PortBinding,
} from '../api/types.js';
import { ConflictError, NetworkError, ValidationError, fsError, isErrno } from '../errors.js';
import {
  DEFAULT_NETWORK,
  listenerBlocks,
  mappingsClash,
  readListeners,
  formatHostPort,
  unshareInNetnsArgs,
  type NetnsStore,
  type NetworkConfig,
  type NetworkRegistry,
  type PortMapping,
  type PublishedPort,
} from '../network/index.js';
import { unshareArgs } from '../namespaces/argv.js';
import { plugNamespace } from '../network/plug.js';
import type { Runner } from '../system/runner.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import { crashPoint } from '../util/crash.js';
import { PhaseTimer } from '../util/phase-timer.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { renderHosts, resolvConf, writeInPlace, type HostsEntry } from './etc-files.js';
import type { Logger } from './containers.js';
import type { ContainerStore } from './store.js';

/** What a running bridge-mode container got: `<state dir>/network.json`, written before its program runs. */
export interface NetworkRecord {
  version: 1;
  name: string;
  netns: string;
  endpoints: EndpointSettings[];
  /** The ports in force, `-P`'s random host ports resolved. */
  ports: PortBinding[];
}

export interface NetworkingDeps {
  registry: NetworkRegistry;
  runner: Runner;
  netns: NetnsStore;
  store: ContainerStore;
  log: Logger;
  /** Committed containers (the index). */
  containers: () => ContainerConfig[];
  unshare?: string;
  nsenter?: string;
  /** The host's files the container's /etc files follow. */
  hostHosts?: string;
  hostResolvConf?: string;
  /** The host's listening sockets (a published port must not shadow one). */
  procNet?: string;
  /** Where `-P` picks host ports; default: the kernel's ephemeral range. */
  portRange?: () => Promise<[number, number]>;
}

const HOST_MODE_WARNING =
  "--network host: the container shares the host's network namespace: it can bind any host port, reach services listening on the host's loopback, and with CAP_NET_RAW (a default capability) send raw packets on the host's interfaces";

/**
 * Containers on networks (docs/networking.md): validates network settings at create, prepares a
 * container's network namespace before its program runs (veth per network, address, routes,
 * published ports), undoes it when the container stops, keeps every attached container's
 * /etc/hosts listing the others on its networks, and repairs what a crash left.
 */
export class ContainerNetworking {
  /** Running bridge-mode containers, by id. */
  private readonly attached = new Map<string, NetworkRecord>();
  private readonly locks = new KeyedMutex();
  /** Networks whose containers' /etc/hosts need rewriting, and the pass doing it. */
  private readonly dirty = new Set<string>();
  private refreshing: Promise<void> | undefined;

  constructor(private readonly d: NetworkingDeps) {}

  get registry(): NetworkRegistry {
    return this.d.registry;
  }

  /**
   * At corrald start, after exits were collected: remember the running containers' records; remove
   * netns files, veths, leases, port rules and records of containers that are not running (a crash
   * between making and recording them, a reboot); make sure the networks in use are set up.
   */
  async init(running: ReadonlySet<string>): Promise<void> {
    const byId = new Map(this.d.containers().map((c) => [c.id, c]));
    for (const c of byId.values()) {
      if (c.network.mode !== 'bridge') continue;
      const rec = await this.readRecord(c.id);
      if (!rec) continue;
      if (running.has(c.id)) this.attached.set(c.id, rec);
      else await rm(this.d.store.file(c.id, 'network.json'), { force: true });
    }
    const removed = await this.d.netns.repair(running);
    if (removed.length > 0) this.d.log.warn('removed network namespaces of containers that are not running', { ids: removed });
    for (const n of await this.d.registry.list()) {
      const net = this.d.registry.bridgeOf(n);
      const report = await net.repair(running);
      if (report.leases.length + report.veths.length + report.ports.length > 0) this.d.log.warn('repaired network', { network: n.name, ...report });
      const inUse = [...this.attached.values()].some((r) => r.endpoints.some((e) => e.network === n.name));
      if (inUse) await net.ensure();
    }
    await this.refreshHosts();
  }

  /** At corrald stop: with no namespace left, undo the netns directory's bind mount (nothing is left mounted). */
  async close(): Promise<void> {
    await this.hostsSettled();
    if ((await this.d.netns.list()).length === 0) await this.d.netns.removeDir();
  }

  /** Resolves when no /etc/hosts update is pending. */
  async hostsSettled(): Promise<void> {
    while (this.refreshing) await this.refreshing;
  }

  /**
   * Update the /etc/hosts of the containers on `networks` in the background, one pass at a time:
   * changes that arrive during a pass are coalesced into the next one.
   */
  private scheduleHostsRefresh(networks: Iterable<string>): void {
    for (const n of networks) this.dirty.add(n);
    if (this.refreshing) return;
    const run = async (): Promise<void> => {
      try {
        while (this.dirty.size > 0) {
          const nets = new Set(this.dirty);
          this.dirty.clear();
          await this.refreshHosts(nets);
        }
      } finally {
        // Synchronously after the last check of `dirty`: a later schedule starts a new pass.
        this.refreshing = undefined;
      }
    };
    this.refreshing = run().catch((err: unknown) => this.d.log.warn('cannot update /etc/hosts of containers', { err: String(err) }));
  }

  /** Serializes creates naming user networks with `network rm`. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.locks.run('networks', fn);
  }

  // ---- create ------------------------------------------------------------------------------

  /**
   * Create-time checks, before anything is made: the networks exist (the default one is recorded
   * on first use), a fixed address is in the subnet and free, host ports are not published by
   * another container nor used by another program.
   */
  async validate(c: ContainerConfig): Promise<void> {
    const n = c.network;
    if (n.mode !== 'bridge') return;
    for (const e of n.networks) {
      const net = await this.d.registry.get(e.network);
      if (e.ip === null) continue;
      await this.d.registry.bridgeOf(net).checkAddress(c.id, e.ip);
      const other = this.d.containers().find((o) => o.id !== c.id && o.network.networks.some((x) => x.network === e.network && x.ip === e.ip));
      if (other) throw new ConflictError(`--ip ${e.ip}: container ${other.name} is configured with that address on network ${e.network}`, { ip: e.ip, container: other.name });
    }
    await this.checkHostPorts(c.id, n.ports);
  }

  warnings(c: ContainerConfig): string[] {
    const w: string[] = [];
    if (c.network.mode === 'host') w.push(HOST_MODE_WARNING);
    if (c.network.publishAll && c.network.expose.length === 0) w.push('-P: no --expose ports given, so nothing will be published');
    if (!c.network.publishAll && c.network.expose.length > 0 && c.network.mode === 'bridge') w.push('--expose without -P publishes nothing (it lists the ports -P publishes)');
    return w;
  }

  private async checkHostPorts(id: string, ports: readonly PortMapping[]): Promise<void> {
    if (ports.length === 0) return;
    const names = new Map(this.d.containers().map((c) => [c.id, c.name]));
    for (const [network, byId] of await this.d.registry.published()) {
      for (const [other, list] of Object.entries(byId)) {
        if (other === id) continue;
        for (const p of ports) {
          const q = list.find((x) => mappingsClash(p, x));
          if (q) {
            throw new ConflictError(`-p ${formatHostPort(p)}: host port ${p.hostPort}/${p.protocol} is already published by container ${names.get(other) ?? other.slice(0, 12)} (network ${network})`, {
              port: p,
              container: names.get(other) ?? other,
            });
          }
        }
      }
    }
    const listeners = await readListeners(this.d.procNet);
    for (const p of ports) {
      const l = listeners.find((x) => listenerBlocks(x, p));
      if (l) {
        const where = `${l.address.includes('.') ? l.address : `[${l.address}]`}:${l.port}`;
        throw new ConflictError(`-p ${formatHostPort(p)}: host port ${p.hostPort}/${p.protocol} is in use by another program (listening on ${where})`, { port: p });
      }
    }
  }

  // ---- start and stop ----------------------------------------------------------------------

  /**
   * Before the program runs. Returns the namespace part of the monitor's chain: for bridge mode
   * `nsenter --net=<netns> -- unshare …` (no `--net`), for host mode `unshare …` without `--net`,
   * for none `undefined` (the usual `unshare --net`). On failure, whatever was made is undone.
   */
  async setUp(c: ContainerConfig): Promise<readonly string[] | undefined> {
    const mode = c.network.mode;
    if (mode === 'host') {
      await this.writeEtc(c, null);
      return unshareArgs(this.d.unshare, { net: false });
    }
    if (mode === 'none') {
      await this.writeEtc(c, null);
      return undefined;
    }
    const t = new PhaseTimer();
    const nets = await Promise.all(c.network.networks.map((e) => this.d.registry.get(e.network)));
    // Leftovers of an earlier run whose clean-up failed (logged then): clear them first.
    await this.tearDown(c);
    t.mark('leftovers');
    let record: NetworkRecord | undefined;
    try {
      // One spawn makes and configures the namespace with every veth, one more plugs them in.
      const plugs = c.network.networks.map((e, i) => {
        const net = this.d.registry.bridgeOf(nets[i]!);
        return { net, ifname: `eth${i}`, hostVeth: net.vethName(c.id, i), ip: e.ip ?? undefined, defaultRoute: i === 0 };
      });
      const { file, attachments } = await plugNamespace({ id: c.id, netns: this.d.netns, runner: this.d.runner, plugs });
      const endpoints: EndpointSettings[] = attachments.map((a, i) => ({
        network: nets[i]!.name,
        bridge: nets[i]!.bridge,
        ifname: plugs[i]!.ifname,
        ipAddress: a.ip,
        prefixLen: a.prefix,
        gateway: a.gateway,
        macAddress: a.mac,
        hostVeth: a.hostVeth,
        aliases: c.network.networks[i]!.aliases,
      }));
      t.mark('netns+attach');
      crashPoint('start:network-attached');
      const ports = await this.publish(c, nets[0]!, endpoints[0]!.ipAddress);
      t.mark('publish');
      record = { version: 1, name: c.name, netns: file, endpoints, ports };
      await atomicWriteJson(this.d.store.file(c.id, 'network.json'), record, 0o600, false);
      this.attached.set(c.id, record);
      await this.writeEtc(c, record);
      t.mark('etc');
      // The others learn about it in the background: with N containers on a network that is N
      // file writes, which the start path need not wait for.
      this.scheduleHostsRefresh(endpoints.map((e) => e.network));
      this.d.log.debug('network set up', { id: c.id, stepsMs: t.phases });
      return unshareInNetnsArgs(file, { ...(this.d.unshare ? { unshare: this.d.unshare } : {}), ...(this.d.nsenter ? { nsenter: this.d.nsenter } : {}) });
    } catch (err) {
      await this.tearDown(c).catch((e: unknown) => this.d.log.error('cannot undo a failed network set-up', { id: c.id, err: String(e) }));
      throw err;
    }
  }

  /** `-p` as given plus `-P`'s exposed ports on random free host ports, published on the first network. */
  private async publish(c: ContainerConfig, net: NetworkConfig, ip: string): Promise<PortBinding[]> {
    const fixed = c.network.ports;
    const wantRandom = c.network.publishAll ? c.network.expose : [];
    if (fixed.length === 0 && wantRandom.length === 0) return [];
    return this.locks.run('ports', async () => {
      await this.checkHostPorts(c.id, fixed);
      const ports: PortMapping[] = [...fixed];
      if (wantRandom.length > 0) {
        const taken = new Set<string>();
        for (const byId of (await this.d.registry.published()).values()) for (const list of Object.values(byId)) for (const p of list) taken.add(`${p.hostPort}/${p.protocol}`);
        for (const p of fixed) taken.add(`${p.hostPort}/${p.protocol}`);
        const listeners = await readListeners(this.d.procNet);
        const [lo, hi] = await (this.d.portRange ?? ephemeralRange)();
        for (const e of wantRandom) {
          const hostPort = pickPort(lo, hi, (port) => taken.has(`${port}/${e.protocol}`) || listeners.some((l) => listenerBlocks(l, { hostIp: '0.0.0.0', hostPort: port, containerPort: e.port, protocol: e.protocol })));
          if (hostPort === undefined) throw new NetworkError(`-P: no free host port for ${e.port}/${e.protocol} in ${lo}-${hi}`);
          taken.add(`${hostPort}/${e.protocol}`);
          ports.push({ hostIp: '0.0.0.0', hostPort, containerPort: e.port, protocol: e.protocol });
        }
      }
      await this.d.registry.bridgeOf(net).publish(c.id, ip, ports);
      return ports.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol }));
    });
  }

  /**
   * After the container stopped (or a failed start, or rm): unpublish, delete the veths, free the
   * leases, remove the namespace and the record, and update the other containers' /etc/hosts.
   * Idempotent and cheap when there is nothing to undo (no process is spawned then).
   */
  async tearDown(c: ContainerConfig, o: { processesMayRemain?: boolean } = {}): Promise<void> {
    if (c.network.mode !== 'bridge') return;
    const had = this.attached.get(c.id) ?? (await this.readRecord(c.id));
    const names = new Set([...c.network.networks.map((e) => e.network), ...(had?.endpoints.map((e) => e.network) ?? [])]);
    let changed = had !== undefined;
    const nets = [];
    for (const name of names) {
      const cfg = await this.d.registry.find(name);
      if (!cfg) continue;
      const net = this.d.registry.bridgeOf(cfg);
      // A lease is written before its veth and freed after it: no lease, nothing to undo.
      if (!(await net.lease(c.id)) && !(c.id in (await net.published()))) continue;
      await net.unpublish(c.id);
      nets.push(net);
    }
    // With the container's processes gone, unmounting its namespace destroys it, and the veths
    // with it; only when something may still hold it are the veths deleted one by one.
    const destroyed = (await this.d.netns.remove(c.id)) && !o.processesMayRemain;
    for (const net of nets) {
      await net.detach(c.id, { vethGone: destroyed });
      changed = true;
    }
    await rm(this.d.store.file(c.id, 'network.json'), { force: true });
    this.attached.delete(c.id);
    if (changed) this.scheduleHostsRefresh(names);
  }

  private async readRecord(id: string): Promise<NetworkRecord | undefined> {
    const path = this.d.store.file(id, 'network.json');
    try {
      return JSON.parse(await readFile(path, 'utf8')) as NetworkRecord;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      // A torn cache is not worth failing a stop for: the leases are the truth.
      this.d.log.warn('unreadable network record', { path, err: String(err) });
      return undefined;
    }
  }

  // ---- /etc files --------------------------------------------------------------------------

  /** The container's own /etc/hosts and /etc/resolv.conf, at every start (they follow the host's). */
  private async writeEtc(c: ContainerConfig, rec: NetworkRecord | null): Promise<void> {
    const hosts = this.d.store.file(c.id, 'hosts');
    const resolv = this.d.store.file(c.id, 'resolv.conf');
    const hostsText = async (): Promise<string> =>
      c.network.mode === 'host'
        ? renderHosts({ hostname: c.hostname, self: null, peers: [], host: await readOr(this.d.hostHosts ?? '/etc/hosts', '') })
        : rec
          ? this.hostsOf(c.id, rec, c.hostname)
          : renderHosts({ hostname: c.hostname, self: null, peers: [] });
    const resolvText = (): Promise<string> => resolvConf(this.d.hostResolvConf ?? '/etc/resolv.conf', { dns: c.network.dns, keepLoopback: c.network.mode === 'host' });
    // Both files at once: this is on the start path.
    await Promise.all([hostsText().then((t) => writeInPlace(hosts, t)), resolvText().then((t) => writeInPlace(resolv, t))]);
  }

  private hostsOf(id: string, rec: NetworkRecord, hostname: string): string {
    const self: HostsEntry = { ip: rec.endpoints[0]!.ipAddress, names: [rec.name, ...(rec.endpoints[0]?.aliases ?? [])] };
    const peers: HostsEntry[] = [];
    for (const e of rec.endpoints) {
      for (const [other, r] of this.attached) {
        if (other === id) continue;
        const pe = r.endpoints.find((x) => x.network === e.network);
        if (pe) peers.push({ ip: pe.ipAddress, names: [r.name, ...pe.aliases] });
      }
    }
    return renderHosts({ hostname, self, peers });
  }

  /**
   * Rewrite (in place: the files are bind-mounted) the /etc/hosts of every attached container on
   * `networks` (all when not given), except `skip` (written already).
   */
  private async refreshHosts(networks?: ReadonlySet<string>, skip?: string): Promise<void> {
    await this.locks.run('hosts', async () => {
      const configs = new Map(this.d.containers().map((c) => [c.id, c]));
      for (const [id, rec] of this.attached) {
        if (id === skip) continue;
        if (networks && !rec.endpoints.some((e) => networks.has(e.network))) continue;
        const c = configs.get(id);
        if (!c) continue;
        try {
          await writeInPlace(this.d.store.file(id, 'hosts'), this.hostsOf(id, rec, c.hostname), { create: false });
        } catch (err) {
          this.d.log.warn('cannot update /etc/hosts of a container', { id, err: String(err) });
        }
      }
    });
  }

  // ---- what users see ----------------------------------------------------------------------

  settings(c: ContainerConfig, running: boolean): NetworkSettings {
    const rec = running ? this.attached.get(c.id) : undefined;
    const first = rec?.endpoints[0];
    return {
      mode: c.network.mode,
      networks: Object.fromEntries((rec?.endpoints ?? []).map((e) => [e.network, e])),
      ipAddress: first?.ipAddress ?? null,
      gateway: first?.gateway ?? null,
      macAddress: first?.macAddress ?? null,
      ports: rec ? rec.ports : c.network.ports,
      sandboxKey: rec?.netns ?? null,
      warnings: this.warnings(c),
    };
  }

  summary(c: ContainerConfig, running: boolean): { networkMode: ContainerConfig['network']['mode']; networks: { name: string; ip: string | null }[]; ports: PortBinding[] } {
    const rec = running ? this.attached.get(c.id) : undefined;
    const networks =
      c.network.mode === 'bridge'
        ? c.network.networks.map((e) => ({ name: e.network, ip: rec?.endpoints.find((x) => x.network === e.network)?.ipAddress ?? null }))
        : [{ name: c.network.mode, ip: null }];
    return { networkMode: c.network.mode, networks, ports: rec ? rec.ports : c.network.ports };
  }

  // ---- corral network ... -----------------------------------------------------------------

  async listNetworks(): Promise<NetworkSummary[]> {
    const count = (name: string): number => [...this.attached.values()].filter((r) => r.endpoints.some((e) => e.network === name)).length;
    const made = await this.d.registry.list();
    const rows: NetworkSummary[] = made.map((n) => ({ name: n.name, driver: 'bridge', bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, createdAt: n.createdAt, containers: count(n.name) }));
    if (!made.some((n) => n.name === DEFAULT_NETWORK)) {
      rows.push({ name: DEFAULT_NETWORK, driver: 'bridge', bridge: `${this.d.registry.prefix}0`, subnet: null, gateway: null, createdAt: null, containers: 0 });
    }
    const modes = (m: 'host' | 'none'): number => this.d.containers().filter((c) => c.network.mode === m).length;
    rows.push({ name: 'host', driver: 'host', bridge: null, subnet: null, gateway: null, createdAt: null, containers: modes('host') });
    rows.push({ name: 'none', driver: 'null', bridge: null, subnet: null, gateway: null, createdAt: null, containers: modes('none') });
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  }

  async createNetwork(raw: unknown): Promise<NetworkSummary> {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError('network create: expected an object');
    const req = raw as Partial<NetworkCreateRequest>;
    for (const k of Object.keys(req)) if (k !== 'name' && k !== 'subnet') throw new ValidationError(`unknown field ${JSON.stringify(k)} in network create request`);
    if (typeof req.name !== 'string') throw new ValidationError('name: expected a string');
    if (req.subnet !== undefined && typeof req.subnet !== 'string') throw new ValidationError('subnet: expected a string');
    const n = await this.d.registry.create(req.name, { subnet: req.subnet });
    this.d.log.info('network created', { network: n.name, bridge: n.bridge, subnet: n.subnet });
    return { name: n.name, driver: 'bridge', bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, createdAt: n.createdAt, containers: 0 };
  }

  async inspectNetwork(name: string): Promise<NetworkInspect> {
    const configured = (pred: (c: ContainerConfig) => boolean) =>
      this.d.containers()
        .filter(pred)
        .map((c) => ({ id: c.id, name: c.name }));
    if (name === 'host' || name === 'none') {
      return { name, driver: name === 'host' ? 'host' : 'null', bridge: null, subnet: null, gateway: null, createdAt: null, table: null, endpoints: [], configured: configured((c) => c.network.mode === name), ports: [] };
    }
    const n = await this.d.registry.get(name);
    const endpoints: NetworkInspect['endpoints'] = [];
    for (const [id, r] of this.attached) {
      const e = r.endpoints.find((x) => x.network === name);
      if (e) endpoints.push({ id, name: r.name, ipAddress: e.ipAddress, macAddress: e.macAddress, hostVeth: e.hostVeth, aliases: e.aliases });
    }
    const published = await this.d.registry.bridgeOf(n).published();
    const names = new Map(this.d.containers().map((c) => [c.id, c.name]));
    const ports = Object.entries(published).flatMap(([id, list]: [string, PublishedPort[]]) =>
      list.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, container: names.get(id) ?? id, containerIp: p.containerIp })),
    );
    return {
      name: n.name,
      driver: 'bridge',
      bridge: n.bridge,
      subnet: n.subnet,
      gateway: n.gateway,
      createdAt: n.createdAt,
      table: `inet ${n.table}`,
      endpoints,
      configured: configured((c) => c.network.networks.some((e) => e.network === name)),
      ports,
    };
  }

  /** Refused while any container, running or not, is configured with the network. */
  async removeNetwork(name: string): Promise<void> {
    if (name === DEFAULT_NETWORK || name === 'host' || name === 'none') await this.d.registry.remove(name); // refused, with the reason
    await this.locked(async () => {
      const users = this.d.containers().filter((c) => c.network.networks.some((e) => e.network === name));
      if (users.length > 0) {
        throw new ConflictError(`network ${name} is in use by ${users.length} container(s): ${users.map((c) => c.name).join(', ')} (remove them first)`, {
          network: name,
          containers: users.map((c) => c.name),
        });
      }
      await this.d.registry.remove(name);
      this.d.log.info('network removed', { network: name });
    });
  }
}

async function readOr<T extends string | undefined>(path: string, fallback: T): Promise<string | T> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return fallback;
    throw fsError('read', path, err);
  }
}

/** The kernel's ephemeral port range (net.ipv4.ip_local_port_range), as Docker uses for `-P`. */
async function ephemeralRange(): Promise<[number, number]> {
  const text = await readOr('/proc/sys/net/ipv4/ip_local_port_range', '32768 60999');
  const [lo, hi] = text.trim().split(/\s+/).map(Number);
  return lo && hi && lo <= hi ? [lo, hi] : [32768, 60999];
}

/** A port in [lo, hi] that `taken` refuses not, starting at a random one. */
export function pickPort(lo: number, hi: number, taken: (port: number) => boolean, random: () => number = Math.random): number | undefined {
  const size = hi - lo + 1;
  const start = Math.floor(random() * size);
  for (let i = 0; i < size; i++) {
    const port = lo + ((start + i) % size);
    if (!taken(port)) return port;
  }
  return undefined;
}
