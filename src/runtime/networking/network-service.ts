import type { ContainerConfig, NetworkCreateRequest, NetworkInspect, NetworkSummary } from '../../api/types.js';
import { ConflictError, ValidationError } from '../../errors.js';
import { DEFAULT_NETWORK, type NetworkRegistry, type PublishedPort } from '../../network/index.js';
import type { KeyedMutex } from '../../util/keyed-mutex.js';
import type { Logger } from '../../util/logger.js';
import type { Attached } from './record.js';

/**
 * `corral network ls|create|inspect|rm`: the registry's networks (src/network/registry.ts) as users
 * see them, with the containers on them; `host` and `none` are listed as networks too, as Docker does.
 */
export class NetworkService {
  constructor(private readonly d: { registry: NetworkRegistry; log: Logger; containers: () => ContainerConfig[]; attached: Attached; locks: KeyedMutex }) {}

  /** Serializes creates naming user networks with `network rm`. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.d.locks.run('networks', fn);
  }

  async list(): Promise<NetworkSummary[]> {
    const count = (name: string): number => [...this.d.attached.values()].filter((r) => r.endpoints.some((e) => e.network === name)).length;
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

  async create(raw: unknown): Promise<NetworkSummary> {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError('network create: expected an object');
    const req = raw as Partial<NetworkCreateRequest>;
    for (const k of Object.keys(req)) if (k !== 'name' && k !== 'subnet') throw new ValidationError(`unknown field ${JSON.stringify(k)} in network create request`);
    if (typeof req.name !== 'string') throw new ValidationError('name: expected a string');
    if (req.subnet !== undefined && typeof req.subnet !== 'string') throw new ValidationError('subnet: expected a string');
    const n = await this.d.registry.create(req.name, { subnet: req.subnet });
    this.d.log.info('network created', { network: n.name, bridge: n.bridge, subnet: n.subnet });
    return { name: n.name, driver: 'bridge', bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, createdAt: n.createdAt, containers: 0 };
  }

  async inspect(name: string): Promise<NetworkInspect> {
    const configured = (pred: (c: ContainerConfig) => boolean) =>
      this.d
        .containers()
        .filter(pred)
        .map((c) => ({ id: c.id, name: c.name }));
    if (name === 'host' || name === 'none') {
      return { name, driver: name === 'host' ? 'host' : 'null', bridge: null, subnet: null, gateway: null, createdAt: null, table: null, endpoints: [], configured: configured((c) => c.network.mode === name), ports: [] };
    }
    const n = await this.d.registry.get(name);
    const endpoints: NetworkInspect['endpoints'] = [];
    for (const [id, r] of this.d.attached) {
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
  async remove(name: string): Promise<void> {
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
