import type { ContainerConfig } from '../../api/types.js';
import type { NetnsStore, NetworkRegistry } from '../../network/index.js';
import type { Logger } from '../../util/logger.js';
import type { ContainerStore } from '../store.js';
import type { HostsSync } from './hosts-sync.js';
import { readRecord, removeRecord, type Attached } from './record.js';

/**
 * At corrald start, after exits were collected: remember the running containers' records; remove
 * netns files, veths, leases, port rules, sender filters and records of containers that are not running (a crash
 * between making and recording them, a reboot); make sure the networks in use are set up; bring
 * every /etc/hosts up to date.
 */
export async function repairNetworking(
  d: { registry: NetworkRegistry; netns: NetnsStore; store: ContainerStore; log: Logger; containers: () => ContainerConfig[]; attached: Attached; hosts: HostsSync },
  running: ReadonlySet<string>,
): Promise<void> {
  for (const c of d.containers()) {
    if (c.network.mode !== 'bridge') continue;
    const rec = await readRecord(d.store, d.log, c.id);
    if (!rec) continue;
    if (running.has(c.id)) d.attached.set(c.id, rec);
    else await removeRecord(d.store, c.id);
  }
  const removed = await d.netns.repair(running);
  if (removed.length > 0) d.log.warn('removed network namespaces of containers that are not running', { ids: removed });
  for (const n of await d.registry.list()) {
    const net = d.registry.bridgeOf(n);
    const report = await net.repair(running);
    if (report.leases.length + report.veths.length + report.ports.length + report.filters.length > 0) d.log.warn('repaired network', { network: n.name, ...report });
    const inUse = [...d.attached.values()].some((r) => r.endpoints.some((e) => e.network === n.name));
    if (inUse) await net.ensure();
  }
  await d.hosts.refresh();
}
