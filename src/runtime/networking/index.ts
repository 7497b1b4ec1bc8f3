import type { ContainerConfig, NetworkInspect, NetworkSettings, NetworkSummary, PortBinding } from '../../api/types.js';
import type { NetworkRegistry } from '../../network/index.js';
import { ValidationError } from '../../errors.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import { BridgeMode } from './bridge.js';
import { HostMode } from './host.js';
import { HostsSync } from './hosts-sync.js';
import type { ModeName, NetworkMode, NetworkingDeps, TearDownOptions } from './mode.js';
import { NetworkService } from './network-service.js';
import { NoneMode } from './none.js';
import { repairNetworking } from './repair.js';
import { writeRecord, type Attached, type NetworkRecord } from './record.js';

export type { NetworkMode, NetworkingDeps, TearDownOptions } from './mode.js';
export type { NetworkRecord } from './record.js';
export { pickPort } from './ports.js';
export { HOST_MODE_WARNING } from './host.js';

/**
 * Containers on networks (docs/networking.md). Each `--network` mode (mode.ts) validates its
 * settings at create, prepares the container's network before its program runs and undoes it when
 * the container stops; this facade picks the mode, keeps the running containers' records (shared
 * with the /etc/hosts sync of peers and the `corral network` service), and repairs what a crash left.
 */
export class ContainerNetworking {
  /** Running bridge-mode containers, by id. */
  private readonly attached: Attached = new Map();
  /** `networks` (create vs network rm), `ports` (-P picks). */
  private readonly locks = new KeyedMutex();
  private readonly hosts: HostsSync;
  private readonly modes: Readonly<Record<ModeName, NetworkMode>>;
  private readonly service: NetworkService;

  constructor(private readonly d: NetworkingDeps) {
    const shared = { attached: this.attached, locks: this.locks };
    this.hosts = new HostsSync({ ...d, ...shared });
    this.modes = { none: new NoneMode(d), host: new HostMode(d), bridge: new BridgeMode({ ...d, ...shared, hosts: this.hosts }) };
    this.service = new NetworkService({ ...d, ...shared });
  }

  get registry(): NetworkRegistry {
    return this.d.registry;
  }

  /** The mode a container is networked with. */
  mode(c: ContainerConfig): NetworkMode {
    const m = (this.modes as Partial<Record<string, NetworkMode>>)[c.network.mode];
    // Configs are validated at create (spec.ts); a hand-edited config.json is the only way here.
    if (!m) throw new ValidationError(`container ${c.name}: unknown network mode ${JSON.stringify(c.network.mode)} in config.json`);
    return m;
  }

  /** At corrald start, after exits were collected (see repair.ts). */
  async init(running: ReadonlySet<string>): Promise<void> {
    await repairNetworking({ ...this.d, attached: this.attached, hosts: this.hosts }, running);
  }

  /** At corrald stop: with no namespace left, undo the netns directory's bind mount (nothing is left mounted). */
  async close(): Promise<void> {
    await this.hosts.settled();
    if ((await this.d.netns.list()).length === 0) await this.d.netns.removeDir();
  }

  /** A running container was renamed: its record and the /etc/hosts of it and its peers follow. */
  async renamed(id: string, name: string): Promise<void> {
    const rec = this.attached.get(id);
    if (!rec) return;
    const next: NetworkRecord = { ...rec, name };
    await writeRecord(this.d.store, id, next);
    this.attached.set(id, next);
    this.hosts.schedule(rec.endpoints.map((e) => e.network));
  }

  /** Resolves when no /etc/hosts update is pending. */
  hostsSettled(): Promise<void> {
    return this.hosts.settled();
  }

  /** Serializes creates naming user networks with `network rm`. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.service.locked(fn);
  }

  /** Create-time checks, before anything is made. */
  async validate(c: ContainerConfig): Promise<void> {
    return this.mode(c).validate(c);
  }

  warnings(c: ContainerConfig): string[] {
    const w = this.mode(c).warnings(c);
    if (c.network.publishAll && c.network.expose.length === 0) w.push('-P: no --expose ports given, so nothing will be published');
    return w;
  }

  /**
   * Before the program runs. Returns the namespace part of the monitor's chain: for bridge mode
   * `nsenter --net=<netns> -- unshare …` (no `--net`), for host mode `unshare …` without `--net`,
   * for none `undefined` (the usual `unshare --net`). On failure, whatever was made is undone.
   */
  async setUp(c: ContainerConfig): Promise<readonly string[] | undefined> {
    return this.mode(c).setUp(c);
  }

  /**
   * After the container stopped (or a failed start, or rm). Idempotent and cheap when there is
   * nothing to undo (no process is spawned then).
   */
  async tearDown(c: ContainerConfig, o: TearDownOptions = {}): Promise<void> {
    return this.mode(c).tearDown(c, o);
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
    return { networkMode: c.network.mode, networks: this.mode(c).networks(c, rec), ports: rec ? rec.ports : c.network.ports };
  }

  // ---- corral network ... (network-service.ts) ----------------------------------------------

  listNetworks(): Promise<NetworkSummary[]> {
    return this.service.list();
  }

  createNetwork(raw: unknown): Promise<NetworkSummary> {
    return this.service.create(raw);
  }

  inspectNetwork(name: string): Promise<NetworkInspect> {
    return this.service.inspect(name);
  }

  removeNetwork(name: string): Promise<void> {
    return this.service.remove(name);
  }
}
