import type { ContainerConfig, EndpointSettings } from '../../api/types.js';
import { ConflictError } from '../../errors.js';
import { unshareInNetnsArgs, type NetnsStore, type NetworkRegistry } from '../../network/index.js';
import { plugNamespace } from '../../network/plug.js';
import { idMap } from '../../namespaces/argv.js';
import type { Runner } from '../../system/runner.js';
import { crashPoint } from '../../util/crash.js';
import type { KeyedMutex } from '../../util/keyed-mutex.js';
import { PhaseTimer } from '../../util/phase-timer.js';
import type { Logger } from '../../util/logger.js';
import type { ContainerStore } from '../store.js';
import { writeEtc } from './etc.js';
import type { HostsSync } from './hosts-sync.js';
import type { NetworkMode, TearDownOptions } from './mode.js';
import { checkHostPorts, publish, type PortDeps } from './ports.js';
import { readRecord, removeRecord, writeRecord, type Attached, type NetworkRecord } from './record.js';

export interface BridgeModeDeps extends PortDeps {
  registry: NetworkRegistry;
  runner: Runner;
  netns: NetnsStore;
  store: ContainerStore;
  log: Logger;
  unshare?: string | undefined;
  nsenter?: string | undefined;
  /** corral-shim, which makes the namespace of a container with its own user namespace. */
  shim?: string | undefined;
  hostResolvConf?: string | undefined;
  attached: Attached;
  locks: KeyedMutex;
  hosts: HostsSync;
}

/**
 * `--network bridge` (and user networks): a persistent namespace corrald makes before the program
 * runs, a veth per network with an address, routes and published ports; the chain joins it with
 * `nsenter --net=`. Undone when the container stops.
 */
export class BridgeMode implements NetworkMode {
  readonly name = 'bridge';

  constructor(private readonly d: BridgeModeDeps) {}

  /**
   * The networks exist (the default one is recorded on first use), a fixed address is in the
   * subnet and free, host ports are not published by another container nor used by another program.
   */
  async validate(c: ContainerConfig): Promise<void> {
    for (const e of c.network.networks) {
      const net = await this.d.registry.get(e.network);
      if (e.ip === null) continue;
      await this.d.registry.bridgeOf(net).checkAddress(c.id, e.ip);
      const other = this.d.containers().find((o) => o.id !== c.id && o.network.networks.some((x) => x.network === e.network && x.ip === e.ip));
      if (other) throw new ConflictError(`--ip ${e.ip}: container ${other.name} is configured with that address on network ${e.network}`, { ip: e.ip, container: other.name });
    }
    await checkHostPorts(this.d, c.id, c.network.ports);
  }

  /** Returns `nsenter --net=<netns> -- unshare …` (no `--net`). */
  async setUp(c: ContainerConfig): Promise<readonly string[]> {
    const t = new PhaseTimer();
    const nets = await Promise.all(c.network.networks.map((e) => this.d.registry.get(e.network)));
    // Leftovers of an earlier run whose clean-up failed (logged then): clear them first.
    await this.tearDown(c);
    t.mark('leftovers');
    try {
      // One spawn makes and configures the namespace with every veth, one more plugs them in.
      const plugs = c.network.networks.map((e, i) => {
        const net = this.d.registry.bridgeOf(nets[i]!);
        return { net, ifname: `eth${i}`, hostVeth: net.vethName(c.id, i), ip: e.ip ?? undefined, defaultRoute: i === 0 };
      });
      // A container with its own user namespace gets a network namespace that belongs to it.
      const u = c.userns.mode === 'private' && this.d.shim ? { shim: this.d.shim, uidMap: idMap(c.userns.uidBase, c.userns.size), gidMap: idMap(c.userns.gidBase, c.userns.size) } : undefined;
      const { file, attachments } = await plugNamespace({ id: c.id, netns: this.d.netns, runner: this.d.runner, plugs, userns: u });
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
      const ports = await publish(this.d, this.d.locks, c, nets[0]!, endpoints[0]!.ipAddress);
      t.mark('publish');
      const record: NetworkRecord = { version: 1, name: c.name, netns: file, endpoints, ports };
      await writeRecord(this.d.store, c.id, record);
      this.d.attached.set(c.id, record);
      await writeEtc(this.d, c, () => this.d.hosts.hostsOf(c.id, record, c));
      t.mark('etc');
      // The others learn about it in the background: with N containers on a network that is N
      // file writes, which the start path need not wait for.
      this.d.hosts.schedule(endpoints.map((e) => e.network));
      this.d.log.debug('network set up', { id: c.id, stepsMs: t.phases });
      return unshareInNetnsArgs(file, { ...(this.d.unshare ? { unshare: this.d.unshare } : {}), ...(this.d.nsenter ? { nsenter: this.d.nsenter } : {}) });
    } catch (err) {
      await this.tearDown(c).catch((e: unknown) => this.d.log.error('cannot undo a failed network set-up', { id: c.id, err: String(e) }));
      throw err;
    }
  }

  /**
   * Unpublish, delete the veths, free the leases, remove the namespace and the record, and update
   * the other containers' /etc/hosts.
   */
  async tearDown(c: ContainerConfig, o: TearDownOptions = {}): Promise<void> {
    const had = this.d.attached.get(c.id) ?? (await readRecord(this.d.store, this.d.log, c.id));
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
    // with it; only when something may still hold it are the veths deleted one by one. The sender
    // filters match the veths by name and go meanwhile (an `nft` and an `umount` side by side).
    const [removed, ...unguarded] = await Promise.allSettled([this.d.netns.remove(c.id), ...nets.map((n) => n.unguardOf(c.id))]);
    for (const r of [removed!, ...unguarded]) if (r.status === 'rejected') throw r.reason;
    const destroyed = (removed as PromiseFulfilledResult<boolean>).value && !o.processesMayRemain;
    for (const net of nets) {
      await net.detach(c.id, { vethGone: destroyed, filterGone: true });
      changed = true;
    }
    await removeRecord(this.d.store, c.id);
    this.d.attached.delete(c.id);
    if (changed) this.d.hosts.schedule(names);
  }

  networks(c: ContainerConfig, rec: NetworkRecord | undefined): { name: string; ip: string | null }[] {
    return c.network.networks.map((e) => ({ name: e.network, ip: rec?.endpoints.find((x) => x.network === e.network)?.ipAddress ?? null }));
  }

  warnings(c: ContainerConfig): string[] {
    return !c.network.publishAll && c.network.expose.length > 0 ? ['--expose without -P publishes nothing (it lists the ports -P publishes)'] : [];
  }
}

