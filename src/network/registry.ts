import { mkdir, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NotFoundError, ValidationError, fsError, isErrno, NetworkError } from '../errors.js';
import type { Runner } from '../system/runner.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { BridgeNetwork } from './bridge.js';
import { networkFailure } from './fail.js';
import { firstHost, formatCidr, formatIpv4, overlaps, parseCidr, type Cidr } from './ipv4.js';
import type { PublishedPort } from './port-store.js';
import type { PortHolder } from './port-holder.js';
import { DEFAULT_SUBNET_CANDIDATES, parseRoutes, routedPrefixes } from './subnet.js';
import type { Sysctl } from './sysctl.js';

/** The network containers join unless told otherwise (`--network bridge`). */
export const DEFAULT_NETWORK = 'bridge';
/** Names that are modes, not networks. */
export const RESERVED_NETWORK_NAMES: readonly string[] = ['bridge', 'host', 'none', 'default', 'container'];

/** `<dataRoot>/network/<name>/network.json`. */
export interface NetworkConfig {
  version: 1;
  name: string;
  /** The bridge interface, `<prefix><n>`; also the name of the network's nftables table (family inet). */
  bridge: string;
  table: string;
  subnet: string;
  gateway: string;
  createdAt: string;
}

export interface NetworkRegistryOptions {
  runner: Runner;
  dataRoot: string;
  /** This installation's bridge prefix (src/config.ts). */
  prefix: string;
  /** Subnet of the default network when it is first made; default: the first free candidate. */
  defaultSubnet?: string | undefined;
  subnetCandidates?: readonly string[];
  sysctl?: Sysctl;
  procNet?: string;
  /** Holds published host ports (corrald passes one; see port-holder.ts). */
  portHolder?: PortHolder;
  log?: (message: string) => void;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Never a container subnet: this host, link-local, multicast and reserved space. */
const UNUSABLE: readonly { cidr: string; why: string }[] = [
  { cidr: '0.0.0.0/8', why: '"this network"' },
  { cidr: '127.0.0.0/8', why: 'loopback' },
  { cidr: '169.254.0.0/16', why: 'link-local' },
  { cidr: '224.0.0.0/3', why: 'multicast and reserved' },
];

/**
 * The networks of one installation: the default `bridge` (made on first use) and user-defined ones
 * (`corral network create`), each a directory under `<dataRoot>/network/` with its config, leases
 * and published ports, a bridge `<prefix><n>` and an nftables table of the same name.
 */
export class NetworkRegistry {
  private readonly mutex = new KeyedMutex();
  private readonly nets = new Map<string, BridgeNetwork>();
  private readonly cache = new Map<string, NetworkConfig>();

  constructor(private readonly o: NetworkRegistryOptions) {}

  get prefix(): string {
    return this.o.prefix;
  }

  private dir(name: string): string {
    return join(this.o.dataRoot, 'network', name);
  }

  private file(name: string): string {
    return join(this.dir(name), 'network.json');
  }

  /** Every network made so far (the default one only once it has been used), by name. */
  async list(): Promise<NetworkConfig[]> {
    let names: string[];
    try {
      names = await readdir(join(this.o.dataRoot, 'network'));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw fsError('read', join(this.o.dataRoot, 'network'), err);
    }
    const out: NetworkConfig[] = [];
    for (const n of names.sort()) {
      if (!NAME.test(n)) continue;
      const c = await this.find(n);
      if (c) out.push(c);
    }
    return out;
  }

  /** The network's config, or undefined when there is no such network (yet). */
  async find(name: string): Promise<NetworkConfig | undefined> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    if (!NAME.test(name)) return undefined;
    let text: string;
    try {
      text = await readFile(this.file(name), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw fsError('read', this.file(name), err);
    }
    let c: NetworkConfig;
    try {
      c = JSON.parse(text) as NetworkConfig;
    } catch (err) {
      throw new NetworkError(`read network ${name} (${this.file(name)}): ${(err as Error).message}`, { network: name });
    }
    if (c.version !== 1 || c.name !== name || typeof c.bridge !== 'string' || typeof c.subnet !== 'string') {
      throw new NetworkError(`read network ${name} (${this.file(name)}): not a version 1 network config`, { network: name });
    }
    this.cache.set(name, c);
    return c;
  }

  /** The network named; the default one is made (recorded, not yet on the host) on first use. */
  async get(name: string): Promise<NetworkConfig> {
    const c = await this.find(name);
    if (c) return c;
    if (name === DEFAULT_NETWORK) return this.mutex.run('registry', async () => (await this.find(name)) ?? this.make(name, this.o.defaultSubnet, 0));
    throw new NotFoundError(`network ${name} not found (see corral network ls)`, { network: name });
  }

  /** A user-defined network: recorded now; its bridge and table are made when a container first joins. */
  async create(name: string, o: { subnet?: string | undefined } = {}): Promise<NetworkConfig> {
    if (!NAME.test(name)) throw new ValidationError(`invalid network name ${JSON.stringify(name)}: use 1-64 characters from [A-Za-z0-9_.-], starting with a letter or digit`);
    if (RESERVED_NETWORK_NAMES.includes(name)) throw new ValidationError(`network name ${name} is reserved (bridge, host and none are network modes)`);
    return this.mutex.run('registry', async () => {
      if (await this.find(name)) throw new ConflictError(`network ${name} already exists`, { network: name });
      return this.make(name, o.subnet, undefined);
    });
  }

  /** Must run under the registry lock. */
  private async make(name: string, subnet: string | undefined, index: number | undefined): Promise<NetworkConfig> {
    const others = await this.list();
    const bridge = `${this.o.prefix}${index ?? nextIndex(this.o.prefix, others)}`;
    if (bridge.length > 15) throw new NetworkError(`create network ${name}: bridge name ${bridge} is longer than 15 characters`);
    const routes = routedPrefixes(parseRoutes((await this.routes()).stdout), [bridge, ...others.map((n) => n.bridge)]);
    const cidr = subnet !== undefined ? checkSubnet(subnet, others, routes) : pickSubnet(this.o.subnetCandidates ?? DEFAULT_SUBNET_CANDIDATES, others, routes);
    if (subnet === undefined) this.o.log?.(`network ${name}: chose subnet ${formatCidr(cidr)}, which no host route or other network overlaps`);
    const c: NetworkConfig = {
      version: 1,
      name,
      bridge,
      table: bridge,
      subnet: formatCidr(cidr),
      gateway: formatIpv4(firstHost(cidr)),
      createdAt: new Date().toISOString(),
    };
    try {
      await mkdir(this.dir(name), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fsError('mkdir', this.dir(name), err);
    }
    await atomicWriteJson(this.file(name), c, 0o644);
    this.cache.set(name, c);
    await this.bridgeOf(c).prepare();
    return c;
  }

  private async routes(): Promise<{ stdout: string }> {
    try {
      return await this.o.runner.run('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
    } catch (err) {
      throw networkFailure('read routes', 'of the host', err);
    }
  }

  /** The module object that runs the network's bridge, table, leases and ports. */
  bridgeOf(c: NetworkConfig): BridgeNetwork {
    let n = this.nets.get(c.name);
    if (!n) {
      n = new BridgeNetwork({
        runner: this.o.runner,
        dataRoot: this.o.dataRoot,
        name: c.name,
        bridge: c.bridge,
        table: c.table,
        subnet: c.subnet,
        ...(this.o.sysctl ? { sysctl: this.o.sysctl } : {}),
        ...(this.o.procNet ? { procNet: this.o.procNet } : {}),
        ...(this.o.portHolder ? { portHolder: this.o.portHolder } : {}),
        ...(this.o.log ? { log: this.o.log } : {}),
      });
      this.nets.set(c.name, n);
    }
    return n;
  }

  /**
   * Delete the network: its table, bridge, leases, ports and config. The caller makes sure no
   * container is configured with it; the default network cannot be removed (as Docker's).
   */
  async remove(name: string): Promise<void> {
    if (name === DEFAULT_NETWORK) throw new ValidationError(`network ${name} is the default network and cannot be removed`);
    if (name === 'host' || name === 'none') throw new ValidationError(`${name} is a network mode, not a network`);
    await this.mutex.run('registry', async () => {
      const c = await this.find(name);
      if (!c) throw new NotFoundError(`network ${name} not found`, { network: name });
      await this.bridgeOf(c).remove();
      // The config goes last: a remove cut short leaves a network that can be removed again.
      try {
        await rm(this.file(name), { force: true });
        await rmdir(this.dir(name));
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw fsError('remove', this.dir(name), err);
      }
      this.cache.delete(name);
      this.nets.delete(name);
    });
  }

  /** Published ports of every network, by network then container id. */
  async published(): Promise<Map<string, Record<string, PublishedPort[]>>> {
    const out = new Map<string, Record<string, PublishedPort[]>>();
    for (const c of await this.list()) out.set(c.name, await this.bridgeOf(c).published());
    return out;
  }
}

/** The smallest n ≥ 1 whose bridge `<prefix><n>` no network has (0 is the default network's). */
function nextIndex(prefix: string, others: readonly NetworkConfig[]): number {
  const used = new Set(others.map((n) => n.bridge));
  for (let i = 1; ; i++) if (!used.has(`${prefix}${i}`)) return i;
}

function checkSubnet(subnet: string, others: readonly NetworkConfig[], routes: readonly Cidr[]): Cidr {
  const loose = parseCidr(subnet, false);
  if (!loose || !subnet.includes('/')) throw new ValidationError(`invalid subnet ${JSON.stringify(subnet)}: want an IPv4 network such as 10.89.0.0/16`, { subnet });
  const cidr = parseCidr(subnet);
  if (!cidr) throw new ValidationError(`invalid subnet ${subnet}: host bits are set (the network is ${formatCidr(loose)})`, { subnet });
  if (cidr.prefix < 8 || cidr.prefix > 30) throw new ValidationError(`invalid subnet ${subnet}: the prefix must be /8 to /30`, { subnet });
  for (const u of UNUSABLE) {
    if (overlaps(cidr, parseCidr(u.cidr)!)) throw new ValidationError(`invalid subnet ${subnet}: it overlaps ${u.cidr} (${u.why})`, { subnet });
  }
  for (const n of others) {
    if (overlaps(cidr, parseCidr(n.subnet)!)) throw new ConflictError(`subnet ${subnet} overlaps network ${n.name} (${n.subnet})`, { subnet, network: n.name });
  }
  const r = routes.find((x) => overlaps(x, cidr));
  if (r) throw new ConflictError(`subnet ${subnet} overlaps the host route to ${formatCidr(r)}`, { subnet, route: formatCidr(r) });
  return cidr;
}

function pickSubnet(candidates: readonly string[], others: readonly NetworkConfig[], routes: readonly Cidr[]): Cidr {
  const used = [...routes, ...others.map((n) => parseCidr(n.subnet)!)];
  for (const cand of candidates) {
    const c = parseCidr(cand);
    if (c && !used.some((u) => overlaps(u, c))) return c;
  }
  throw new NetworkError(`choose subnet: every candidate (${candidates.join(', ')}) overlaps a host route or another network; pass --subnet`);
}
