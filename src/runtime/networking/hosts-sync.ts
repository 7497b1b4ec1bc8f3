import type { ContainerConfig } from '../../api/types.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import type { Logger } from '../../util/logger.js';
import { renderHosts, writeInPlace, type HostsEntry } from '../etc-files.js';
import type { ContainerStore } from '../store.js';
import type { Attached, NetworkRecord } from './record.js';

/**
 * Keeps every attached container's /etc/hosts listing the others on its networks. Changes are
 * applied in the background, one pass at a time: the start path need not wait for N file writes.
 */
export class HostsSync {
  private readonly lock = new KeyedMutex();
  /** Networks whose containers' /etc/hosts need rewriting, and the pass doing it. */
  private readonly dirty = new Set<string>();
  private refreshing: Promise<void> | undefined;

  constructor(private readonly d: { attached: Attached; store: ContainerStore; log: Logger; containers: () => ContainerConfig[] }) {}

  /** The /etc/hosts of attached container `id`: itself on its first network, then its peers. */
  hostsOf(id: string, rec: NetworkRecord, c: Pick<ContainerConfig, 'hostname' | 'extraHosts'>): string {
    const self: HostsEntry = { ip: rec.endpoints[0]!.ipAddress, names: [rec.name, ...(rec.endpoints[0]?.aliases ?? [])] };
    const peers: HostsEntry[] = [];
    for (const e of rec.endpoints) {
      for (const [other, r] of this.d.attached) {
        if (other === id) continue;
        const pe = r.endpoints.find((x) => x.network === e.network);
        if (pe) peers.push({ ip: pe.ipAddress, names: [r.name, ...pe.aliases] });
      }
    }
    return renderHosts({ hostname: c.hostname, self, peers, extra: c.extraHosts ?? [] });
  }

  /** Resolves when no /etc/hosts update is pending. */
  async settled(): Promise<void> {
    while (this.refreshing) await this.refreshing;
  }

  /**
   * Update the /etc/hosts of the containers on `networks` in the background: changes that arrive
   * during a pass are coalesced into the next one.
   */
  schedule(networks: Iterable<string>): void {
    for (const n of networks) this.dirty.add(n);
    if (this.refreshing) return;
    const run = async (): Promise<void> => {
      try {
        while (this.dirty.size > 0) {
          const nets = new Set(this.dirty);
          this.dirty.clear();
          await this.refresh(nets);
        }
      } finally {
        // Synchronously after the last check of `dirty`: a later schedule starts a new pass.
        this.refreshing = undefined;
      }
    };
    this.refreshing = run().catch((err: unknown) => this.d.log.warn('cannot update /etc/hosts of containers', { err: String(err) }));
  }

  /**
   * Rewrite (in place: the files are bind-mounted) the /etc/hosts of every attached container on
   * `networks` (all when not given).
   */
  async refresh(networks?: ReadonlySet<string>): Promise<void> {
    await this.lock.run('hosts', async () => {
      const configs = new Map(this.d.containers().map((c) => [c.id, c]));
      for (const [id, rec] of this.d.attached) {
        if (networks && !rec.endpoints.some((e) => networks.has(e.network))) continue;
        const c = configs.get(id);
        if (!c) continue;
        try {
          await writeInPlace(this.d.store.file(id, 'hosts'), this.hostsOf(id, rec, c), { create: false });
        } catch (err) {
          this.d.log.warn('cannot update /etc/hosts of a container', { id, err: String(err) });
        }
      }
    });
  }
}
