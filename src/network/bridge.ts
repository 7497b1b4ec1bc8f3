import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NetworkError, ValidationError, fsError, isErrno } from '../errors.js';
import type { RunOptions, RunResult, Runner } from '../system/runner.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { networkFailure } from './fail.js';
import { Ipam, macFor, type Lease } from './ipam.js';
import { parseCidr } from './ipv4.js';
import { FILTER_FAMILY, filterBaseScript, guardScript, parseGuarded, unguardScript, type Sender } from './filter.js';
import { FAMILY, baseScript } from './nft.js';
import type { PublishedPort } from './port-store.js';
import type { PortMapping } from './ports.js';
import type { PortHolder } from './port-holder.js';
import { Publisher } from './publisher.js';
import { DEFAULT_SUBNET_CANDIDATES, chooseSubnet, parseRoutes } from './subnet.js';
import { ProcSysctl, type Sysctl } from './sysctl.js';

export interface BridgeNetworkOptions {
  runner: Runner;
  /** Leases and published ports live in `<dataRoot>/network/<name>/`. */
  dataRoot: string;
  /** Network name (its directory under `<dataRoot>/network/`); also the bridge's unless `bridge` is given. Default `corral0`. */
  name?: string;
  /** The bridge interface's name (at most 15 characters). Default: `name`. */
  bridge?: string;
  /** Corral's own nftables table (family inet), one per network. Default `corral`. */
  table?: string;
  /** IPv4 subnet such as `10.88.0.0/16`. Default: the one recorded in leases.json, else the first free candidate. */
  subnet?: string;
  subnetCandidates?: readonly string[];
  /** Host-side veth names are `<prefix><id…>` (15 characters at most). Default `cv`. */
  vethPrefix?: string;
  /** Kernel settings. Default: /proc/sys. */
  sysctl?: Sysctl;
  /** Where listening sockets are read from (the host's network namespace). Default /proc/net. */
  procNet?: string;
  /** Binds published host ports so no host program takes them unnoticed (corrald's; none in unit tests). */
  portHolder?: PortHolder;
  /** Told about changes to the host beyond Corral's own objects (net.ipv4.ip_forward) and choices made. */
  log?: (message: string) => void;
}

export interface NetworkInfo {
  name: string;
  bridge: string;
  table: string;
  subnet: string;
  gateway: string;
  prefix: number;
  /** True when this ensure() switched net.ipv4.ip_forward from 0 to 1. */
  enabledIpForward: boolean;
}

/** What a container got on the network; keep it for inspect. */
export interface Attachment {
  ip: string;
  mac: string;
  gateway: string;
  prefix: number;
  hostVeth: string;
}

export interface AttachOptions {
  /** A fixed address (`--ip`); default: the next free one. */
  ip?: string | undefined;
  /** The interface inside the namespace. Default `eth0`. */
  ifname?: string;
  /** The host side's name. Default `vethName(id)`. */
  hostVeth?: string;
  /** Add the default route via this network's gateway. Default true. */
  defaultRoute?: boolean;
}

export interface RepairReport {
  /** Container ids whose leases were freed. */
  leases: string[];
  /** Host veths deleted. */
  veths: string[];
  /** Container ids whose port rules or records were removed. */
  ports: string[];
  /** Host veths whose sender filter (chain and map element in the bridge table) was removed. */
  filters: string[];
}

const NAME = /^[A-Za-z0-9_-]{1,15}$/;
const NETWORK = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const IFNAME = /^[a-z][a-z0-9]{0,14}$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const PREFIX = /^[a-z]{1,4}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const GONE = /Cannot find device|does not exist|No such file or directory/;

/**
 * Bridge networking: a Linux bridge with the subnet's first address, one veth per container with
 * its peer as `eth0` in the container's namespace, masquerade for traffic leaving the host and
 * DNAT for published ports, all in an nftables table of Corral's own (see nft.ts).
 *
 * State on disk is the truth: a lease (with the veth's name) is written before the veth is made,
 * and a published port before its rule, so `repair(knownIds)` after a crash can remove whatever
 * belongs to no known container.
 */
export class BridgeNetwork {
  readonly name: string;
  readonly bridge: string;
  readonly table: string;
  readonly dir: string;
  private readonly runner: Runner;
  private readonly ipam: Ipam;
  private readonly publisher: Publisher;
  private readonly sysctl: Sysctl;
  private readonly vethPrefix: string;
  private readonly mutex = new KeyedMutex();
  private ready: Promise<NetworkInfo> | undefined;

  constructor(private readonly o: BridgeNetworkOptions) {
    this.name = o.name ?? 'corral0';
    this.bridge = o.bridge ?? this.name;
    this.table = o.table ?? 'corral';
    this.vethPrefix = o.vethPrefix ?? 'cv';
    if (o.bridge === undefined && !NAME.test(this.name)) throw new ValidationError(`invalid network name ${JSON.stringify(this.name)}: use 1-15 characters from [A-Za-z0-9_-] (it names the bridge)`);
    if (o.bridge !== undefined && !NETWORK.test(this.name)) throw new ValidationError(`invalid network name ${JSON.stringify(this.name)}: use 1-64 characters from [A-Za-z0-9_.-], starting with a letter or digit`);
    if (!NAME.test(this.bridge)) throw new ValidationError(`invalid bridge name ${JSON.stringify(this.bridge)}: use 1-15 characters from [A-Za-z0-9_-]`);
    if (!TABLE.test(this.table)) throw new ValidationError(`invalid nftables table ${JSON.stringify(this.table)}: use [A-Za-z0-9_], starting with a letter`);
    if (!PREFIX.test(this.vethPrefix)) throw new ValidationError(`invalid veth prefix ${JSON.stringify(this.vethPrefix)}: use 1-4 lowercase letters`);
    this.runner = o.runner;
    this.dir = join(o.dataRoot, 'network', this.name);
    this.ipam = new Ipam(join(this.dir, 'leases.json'));
    this.publisher = new Publisher({ runner: this.runner, table: this.table, file: join(this.dir, 'ports.json'), procNet: o.procNet, holder: o.portHolder });
    this.sysctl = o.sysctl ?? new ProcSysctl();
  }

  /**
   * The host side of `id`'s veth: `cv` + the id's first 13 characters; with `index` (a container
   * on several networks), `cv` + 12 characters + the index in base 36, so each is distinct.
   */
  vethName(id: string, index?: number): string {
    if (index === undefined) return this.vethPrefix + id.slice(0, 15 - this.vethPrefix.length);
    if (!Number.isInteger(index) || index < 0 || index > 35) throw new ValidationError(`veth index ${index}: want 0-35`);
    return this.vethPrefix + id.slice(0, 14 - this.vethPrefix.length) + index.toString(36);
  }

  /**
   * Record the network's subnet in its lease file without touching the host (no bridge, no
   * table): enough to check and lease addresses. Needs the `subnet` option.
   */
  async prepare(): Promise<void> {
    if (this.o.subnet === undefined) throw new NetworkError(`prepare network ${this.name}: no subnet given`);
    await this.ipam.init(this.name, this.o.subnet);
  }

  /**
   * Create or repair the bridge, its address, the nftables table and the sysctls it needs;
   * idempotent (corrald may call it at every start). Enables net.ipv4.ip_forward when it is 0,
   * and says so through `log`.
   */
  async ensure(): Promise<NetworkInfo> {
    const p = this.mutex.run('ensure', () => this.doEnsure());
    this.ready = p;
    p.catch(() => {
      if (this.ready === p) this.ready = undefined;
    });
    return p;
  }

  /** The network as set up by the last ensure(), running it first if needed. */
  async info(): Promise<NetworkInfo> {
    return this.ready ?? this.ensure();
  }

  private async doEnsure(): Promise<NetworkInfo> {
    const br = this.bridge;
    let subnet = this.o.subnet ?? (await this.ipam.load())?.subnet;
    if (subnet === undefined) {
      const routes = await this.cmd('read routes', 'of the host', 'ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
      subnet = chooseSubnet(parseRoutes(routes.stdout), this.o.subnetCandidates ?? DEFAULT_SUBNET_CANDIDATES, [br]);
      this.log(`network ${br}: chose subnet ${subnet}, which no host route overlaps`);
    }
    const leases = await this.ipam.init(this.name, subnet);
    const prefix = parseCidr(leases.subnet)!.prefix;
    const gateway = leases.gateway;

    const link = await this.runner.run('ip', ['-j', '-d', 'link', 'show', 'dev', br], { allowFailure: true });
    if (link.exitCode !== 0) {
      // A fixed address: a bridge would otherwise take the lowest MAC of its ports and change it
      // as containers come and go, leaving stale gateway entries in their neighbour tables.
      await this.cmd('create bridge', br, 'ip', ['link', 'add', br, 'address', macFor(gateway), 'type', 'bridge']);
    } else {
      const kind = (JSON.parse(link.stdout) as { linkinfo?: { info_kind?: string } }[])[0]?.linkinfo?.info_kind;
      if (kind !== 'bridge') throw new NetworkError(`create bridge ${br}: an interface of that name exists and is a ${kind ?? 'device'}, not a bridge`, { bridge: br });
    }
    const addrs = await this.cmd('read addresses of', br, 'ip', ['-j', '-4', 'addr', 'show', 'dev', br]);
    const have = (JSON.parse(addrs.stdout || '[]') as { addr_info?: { local?: string; prefixlen?: number }[] }[]).flatMap((l) =>
      (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
    );
    const want = `${gateway}/${prefix}`;
    if (!have.includes(want)) {
      if (have.length > 0) {
        throw new NetworkError(`configure bridge ${br}: it has ${have.join(', ')}, not ${want}; delete the bridge or use its subnet`, { bridge: br, addresses: have });
      }
      await this.cmd('set address on', br, 'ip', ['addr', 'add', want, 'dev', br]);
    }
    await this.cmd('bring up', br, 'ip', ['link', 'set', br, 'up']);

    // Host-local clients (127.0.0.1:PORT) are DNATed into the bridge; the kernel routes a
    // 127.0.0.0/8 source out of an interface only with route_localnet, set on our bridge alone.
    const localnet = `net.ipv4.conf.${br}.route_localnet`;
    if ((await this.sysctl.read(localnet)) !== '1') await this.sysctl.write(localnet, '1');
    let enabledIpForward = false;
    if ((await this.sysctl.read('net.ipv4.ip_forward')) === '0') {
      await this.sysctl.write('net.ipv4.ip_forward', '1');
      enabledIpForward = true;
      this.log(`network ${br}: enabled net.ipv4.ip_forward (it was 0) so containers reach beyond the host; this host now forwards IPv4 between all its interfaces`);
    }
    // One transaction: the NAT/forward table and the bridge table that checks who is talking.
    await this.nft('set up', `tables ${FAMILY} and ${FILTER_FAMILY} ${this.table}`, baseScript({ table: this.table, bridge: br, subnet: leases.subnet }) + filterBaseScript(this.table));
    return { name: this.name, bridge: br, table: this.table, subnet: leases.subnet, gateway, prefix, enabledIpForward };
  }

  /**
   * Give `id` an address and plug `netnsFile` (NetnsStore.create) into the bridge: a veth whose
   * host side is `vethName(id)` and whose peer is `eth0` inside, with the address, a default route
   * via the gateway, and `lo` up. On failure everything made here is undone.
   */
  async attach(id: string, netnsFile: string, o: AttachOptions = {}): Promise<Attachment> {
    checkId(id);
    const ifname = o.ifname ?? 'eth0';
    if (!IFNAME.test(ifname)) throw new ValidationError(`invalid interface name ${JSON.stringify(ifname)}`);
    const net = await this.info();
    const hostVeth = o.hostVeth ?? this.vethName(id);
    if (!NAME.test(hostVeth)) throw new ValidationError(`invalid veth name ${JSON.stringify(hostVeth)}`);
    const had = await this.ipam.get(id);
    const lease = await this.ipam.lease(id, { hostVeth, ip: o.ip });
    const inside = [
      `addr add ${lease.ip}/${net.prefix} dev ${ifname}`,
      `link set ${ifname} up`,
      'link set lo up',
      ...(o.defaultRoute === false ? [] : [`route add default via ${net.gateway} dev ${ifname}`]),
      '',
    ].join('\n');
    let created = false;
    try {
      await this.guard([{ hostVeth, mac: lease.mac, ip: lease.ip }]);
      await this.cmd('create veth', hostVeth, 'ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', ifname, 'address', lease.mac, 'netns', netnsFile]);
      created = true;
      await this.cmd('attach veth', `${hostVeth} to bridge ${net.bridge}`, 'ip', ['link', 'set', hostVeth, 'master', net.bridge, 'up']);
      await this.cmd(`configure ${ifname} in`, netnsFile, 'nsenter', [`--net=${netnsFile}`, 'ip', '-batch', '-'], { input: inside });
    } catch (err) {
      // Undo only what this call made: a second attach of an attached container must not cut it off.
      if (created) await this.runner.run('ip', ['link', 'del', hostVeth], { allowFailure: true });
      if (!had) {
        await this.unguard(hostVeth);
        await this.ipam.release(id);
      }
      throw err;
    }
    return { ip: lease.ip, mac: lease.mac, gateway: net.gateway, prefix: net.prefix, hostVeth };
  }

  /**
   * For plugging several networks in one go (src/network/plug.ts): lease an address for `id`
   * (recorded with the veth's name before anything is made) and return what the veth needs.
   * `fresh` is false when the lease existed already.
   */
  async reserve(id: string, o: { hostVeth: string; ip?: string | undefined }): Promise<{ lease: Lease; info: NetworkInfo; fresh: boolean }> {
    checkId(id);
    if (!NAME.test(o.hostVeth)) throw new ValidationError(`invalid veth name ${JSON.stringify(o.hostVeth)}`);
    const info = await this.info();
    const had = await this.ipam.get(id);
    const lease = await this.ipam.lease(id, { hostVeth: o.hostVeth, ip: o.ip });
    return { lease, info, fresh: !had };
  }

  /** Free `id`'s address (the undo of a fresh `reserve`). */
  async unreserve(id: string): Promise<void> {
    await this.ipam.release(id);
  }

  /**
   * Unpublish `id`'s ports, delete its veth (the peer goes with it) and free its address.
   * Idempotent. `vethGone`: the caller destroyed the namespace holding the veth's other end, which
   * takes the veth with it; deleting it here too would only wait for the kernel (`ip link del` of a
   * veth waits for RCU grace periods, tens of milliseconds). `filterGone`: the caller removed the
   * sender filter already (`unguardOf`, side by side with removing the namespace).
   */
  async detach(id: string, o: { vethGone?: boolean; filterGone?: boolean } = {}): Promise<void> {
    checkId(id);
    await this.unpublish(id);
    const lease = await this.ipam.get(id);
    const hostVeth = lease?.hostVeth ?? this.vethName(id);
    if (!o.vethGone) await this.deleteLink(hostVeth, 'delete veth');
    // The filter matches the veth by name: it outlives the veth and goes here, before the lease.
    if (!o.filterGone) await this.unguard(hostVeth);
    await this.ipam.release(id);
  }

  /** Remove the sender filter of `id`'s veth (by its lease). Idempotent. */
  async unguardOf(id: string): Promise<void> {
    checkId(id);
    await this.unguard((await this.ipam.get(id))?.hostVeth ?? this.vethName(id));
  }

  /**
   * The nft script that lets each sender's veth send only from its MAC and leased IPv4 address
   * (filter.ts); plugNamespace runs the scripts of all networks in one `nft` spawn.
   */
  guardScript(senders: readonly Sender[]): string {
    return senders.map((s) => guardScript(this.table, s)).join('');
  }

  /** Install the sender filter of `senders` (needs ensure()). */
  async guard(senders: readonly Sender[]): Promise<void> {
    await this.nft('filter senders on', `table ${FILTER_FAMILY} ${this.table}`, this.guardScript(senders));
  }

  /** Remove the sender filter of `hostVeth`. Idempotent; nothing to do without the table. */
  async unguard(hostVeth: string): Promise<void> {
    const r = await this.runner.run('nft', ['-f', '-'], { input: unguardScript(this.table, hostVeth), allowFailure: true });
    if (r.exitCode !== 0 && !GONE.test(r.stderr)) {
      throw new NetworkError(`remove sender filter of ${hostVeth} from table ${FILTER_FAMILY} ${this.table}: ${firstError(r.stderr) || `exit ${r.exitCode}`}`, { table: this.table, veth: hostVeth });
    }
  }

  /** Host veths that have a sender filter in the bridge table (none without the table). */
  async guarded(): Promise<string[]> {
    const r = await this.runner.run('nft', ['-j', 'list', 'table', FILTER_FAMILY, this.table], { allowFailure: true });
    if (r.exitCode !== 0) {
      if (GONE.test(r.stderr)) return [];
      throw new NetworkError(`list table ${FILTER_FAMILY} ${this.table}: ${firstError(r.stderr) || `exit ${r.exitCode}`}`, { table: this.table });
    }
    return parseGuarded(r.stdout);
  }

  /** Check a fixed `--ip` for `id` without leasing it (at create time); returns it normalized. */
  async checkAddress(id: string, ip: string): Promise<string> {
    checkId(id);
    // With a known subnet the lease file is enough; the host is not touched at create time.
    if (this.o.subnet !== undefined) await this.prepare();
    else await this.info();
    return this.ipam.check(id, ip);
  }

  /** Every lease of the network, by container id. */
  async leases(): Promise<Record<string, Lease>> {
    return this.ipam.list();
  }

  /** `id`'s lease, if it has one. */
  async lease(id: string): Promise<Lease | undefined> {
    return this.ipam.get(id);
  }

  /**
   * Forward host ports to `containerIp` with DNAT rules (no userland proxy: the container sees
   * each client's own address; host-local clients, 127.0.0.1 included, appear as the gateway).
   * Refuses a host port Corral has published already or another program listens on.
   */
  async publish(id: string, containerIp: string, ports: readonly PortMapping[]): Promise<void> {
    checkId(id);
    if (ports.length > 0) await this.info();
    await this.publisher.publish(id, containerIp, ports);
  }

  /** Remove `id`'s DNAT rules and records. Idempotent. */
  async unpublish(id: string): Promise<void> {
    checkId(id);
    await this.publisher.unpublish(id);
  }

  /** Published ports by container id. */
  async published(): Promise<Record<string, PublishedPort[]>> {
    return this.publisher.published();
  }

  /**
   * After a crash: delete the veths, leases, port rules and port records of containers not in
   * `knownIds`. Veths are found from the leases (written before each veth is made) and among the
   * bridge's ports with our prefix; `cv*` veths elsewhere may belong to another installation and
   * are left alone.
   */
  async repair(knownIds: Iterable<string>): Promise<RepairReport> {
    const known = new Set(knownIds);
    const report: RepairReport = { leases: [], veths: [], ports: [], filters: [] };
    const leases = await this.ipam.list();
    for (const [id, l] of Object.entries(leases)) {
      if (known.has(id)) continue;
      if (await this.deleteLink(l.hostVeth, 'delete veth')) report.veths.push(l.hostVeth);
      await this.ipam.release(id);
      report.leases.push(id);
    }
    const keep = new Set(Object.entries(leases).filter(([id]) => known.has(id)).map(([, l]) => l.hostVeth));
    const ports = await this.runner.run('ip', ['-j', 'link', 'show', 'master', this.bridge], { allowFailure: true });
    if (ports.exitCode === 0) {
      for (const l of JSON.parse(ports.stdout || '[]') as { ifname?: string }[]) {
        const n = l.ifname;
        if (!n || !n.startsWith(this.vethPrefix) || keep.has(n)) continue;
        if (await this.deleteLink(n, 'delete veth')) report.veths.push(n);
      }
    }
    report.ports.push(...(await this.publisher.removeUnknown(known)));
    for (const f of await this.publisher.holdRecorded()) this.o.log?.(`network ${this.name}: cannot hold the published ports of ${f.id.slice(0, 12)} again: ${f.error}`);
    for (const v of await this.guarded()) {
      if (keep.has(v)) continue;
      await this.unguard(v);
      report.filters.push(v);
    }
    return report;
  }

  /**
   * Delete the table and the bridge and forget the network (its lease and port files). Refused
   * while containers hold leases, unless `force`. net.ipv4.ip_forward is left as it is.
   */
  async remove(o: { force?: boolean } = {}): Promise<void> {
    const leases = Object.keys(await this.ipam.list());
    if (leases.length > 0 && !o.force) {
      throw new ConflictError(`remove network ${this.name}: ${leases.length} container(s) still attached (${leases.map((i) => i.slice(0, 12)).join(' ')})`, { ids: leases });
    }
    for (const family of [FAMILY, FILTER_FAMILY]) {
      const del = await this.runner.run('nft', ['delete', 'table', family, this.table], { allowFailure: true });
      if (del.exitCode !== 0 && !GONE.test(del.stderr)) {
        throw new NetworkError(`delete table ${family} ${this.table}: ${del.stderr.trim().split('\n')[0]}`, { table: this.table });
      }
    }
    await this.deleteLink(this.bridge, 'delete bridge');
    for (const f of [this.ipam.file, this.publisher.store.file]) {
      try {
        await rm(f, { force: true });
      } catch (err) {
        throw fsError('remove', f, err);
      }
    }
    try {
      await rmdir(this.dir);
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTEMPTY')) throw fsError('remove', this.dir, err);
    }
    this.ready = undefined;
  }

  /** `ip link del`; true when it deleted something, false when there was nothing to delete. */
  private async deleteLink(name: string, operation: string): Promise<boolean> {
    const r = await this.runner.run('ip', ['link', 'del', name], { allowFailure: true });
    if (r.exitCode === 0) return true;
    if (GONE.test(r.stderr)) return false;
    throw new NetworkError(`${operation} ${name}: ${r.stderr.trim().split('\n')[0] || `exit ${r.exitCode}`}`, { operation, object: name });
  }

  private async nft(operation: string, object: string, script: string): Promise<void> {
    await this.cmd(operation, object, 'nft', ['-f', '-'], { input: script });
  }

  private async cmd(operation: string, object: string, file: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    try {
      return await this.runner.run(file, args, options);
    } catch (err) {
      throw networkFailure(operation, object, err);
    }
  }

  private log(message: string): void {
    this.o.log?.(message);
  }
}

/** nft prints the failing script line after the error; the error line is enough. */
function firstError(stderr: string): string {
  return stderr.trim().split('\n').find((l) => /Error:/.test(l))?.replace(/^.*?Error:\s*/, '') ?? stderr.trim().split('\n')[0] ?? '';
}

function checkId(id: string): void {
  if (!ID.test(id)) throw new ValidationError(`invalid container id ${JSON.stringify(id)}`);
}
