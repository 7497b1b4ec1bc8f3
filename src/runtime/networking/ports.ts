import type { ContainerConfig, PortBinding } from '../../api/types.js';
import { ConflictError, NetworkError } from '../../errors.js';
import { formatHostPort, listenerBlocks, mappingsClash, readListeners, type NetworkConfig, type NetworkRegistry, type PortMapping } from '../../network/index.js';
import type { KeyedMutex } from '../../util/keyed-mutex.js';
import { readOr } from './etc.js';

export interface PortDeps {
  registry: NetworkRegistry;
  containers: () => ContainerConfig[];
  procNet?: string | undefined;
  portRange?: (() => Promise<[number, number]>) | undefined;
}

/** Host ports must be published by no other container and used by no other program. */
export async function checkHostPorts(d: PortDeps, id: string, ports: readonly PortMapping[]): Promise<void> {
  if (ports.length === 0) return;
  const names = new Map(d.containers().map((c) => [c.id, c.name]));
  for (const [network, byId] of await d.registry.published()) {
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
  const listeners = await readListeners(d.procNet);
  for (const p of ports) {
    const l = listeners.find((x) => listenerBlocks(x, p));
    if (l) {
      const where = `${l.address.includes('.') ? l.address : `[${l.address}]`}:${l.port}`;
      throw new ConflictError(`-p ${formatHostPort(p)}: host port ${p.hostPort}/${p.protocol} is in use by another program (listening on ${where})`, { port: p });
    }
  }
}

/**
 * `-p` as given plus `-P`'s exposed ports on random free host ports, published on `net` (the first
 * network) for address `ip`. Under the `ports` lock, so two starts cannot pick the same port.
 */
export async function publish(d: PortDeps, locks: KeyedMutex, c: ContainerConfig, net: NetworkConfig, ip: string): Promise<PortBinding[]> {
  const fixed = c.network.ports;
  const wantRandom = c.network.publishAll ? c.network.expose : [];
  if (fixed.length === 0 && wantRandom.length === 0) return [];
  return locks.run('ports', async () => {
    await checkHostPorts(d, c.id, fixed);
    const ports: PortMapping[] = [...fixed];
    if (wantRandom.length > 0) {
      const taken = new Set<string>();
      for (const byId of (await d.registry.published()).values()) for (const list of Object.values(byId)) for (const p of list) taken.add(`${p.hostPort}/${p.protocol}`);
      for (const p of fixed) taken.add(`${p.hostPort}/${p.protocol}`);
      const listeners = await readListeners(d.procNet);
      const [lo, hi] = await (d.portRange ?? ephemeralRange)();
      for (const e of wantRandom) {
        const hostPort = pickPort(lo, hi, (port) => taken.has(`${port}/${e.protocol}`) || listeners.some((l) => listenerBlocks(l, { hostIp: '0.0.0.0', hostPort: port, containerPort: e.port, protocol: e.protocol })));
        if (hostPort === undefined) throw new NetworkError(`-P: no free host port for ${e.port}/${e.protocol} in ${lo}-${hi}`);
        taken.add(`${hostPort}/${e.protocol}`);
        ports.push({ hostIp: '0.0.0.0', hostPort, containerPort: e.port, protocol: e.protocol });
      }
    }
    await d.registry.bridgeOf(net).publish(c.id, ip, ports);
    return ports.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol }));
  });
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
