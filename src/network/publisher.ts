import { ConflictError, NetworkError, ValidationError } from '../errors.js';
import type { Runner } from '../system/runner.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { networkFailure } from './fail.js';
import { parseIpv4 } from './ipv4.js';
import { listenerBlocks, readListeners } from './listeners.js';
import { FAMILY, PORTS_CHAIN, deleteRulesScript, parseChainRules, publishScript, type TaggedRule } from './nft.js';
import type { PortHolder } from './port-holder.js';
import { PortStore, type PublishedPort } from './port-store.js';
import { formatHostPort, mappingsClash, type PortMapping } from './ports.js';

const GONE = /No such file or directory/;

/**
 * Published ports of one network: DNAT rules in the `ports` chain of its table, one per port,
 * tagged with the container id, and their record in ports.json (written first, so two containers
 * never get the same host port). No userland proxy: a remote client's address reaches the container.
 */
export class Publisher {
  readonly store: PortStore;
  private readonly mutex = new KeyedMutex();

  constructor(private readonly o: { runner: Runner; table: string; file: string; procNet?: string | undefined; holder?: PortHolder | undefined }) {
    this.store = new PortStore(o.file);
  }

  /** Refuses a host port published already (by any container) or used by another program. */
  async publish(id: string, containerIp: string, ports: readonly PortMapping[]): Promise<void> {
    if (parseIpv4(containerIp) === undefined) throw new ValidationError(`publish ports of ${id.slice(0, 12)}: ${JSON.stringify(containerIp)} is not an IPv4 address`);
    if (ports.length === 0) return;
    await this.mutex.run('ports', async () => {
      const all = await this.store.load();
      ports.forEach((p, i) => {
        if (ports.slice(0, i).some((q) => mappingsClash(p, q))) throw new ValidationError(`publish ${formatHostPort(p)}: given twice`, { port: p });
        for (const [other, list] of Object.entries(all)) {
          if (list.some((q) => mappingsClash(p, q))) {
            throw new ConflictError(`publish ${formatHostPort(p)}: host port ${p.hostPort}/${p.protocol} is already published by container ${other.slice(0, 12)}`, { port: p, id: other });
          }
        }
      });
      const listeners = await readListeners(this.o.procNet);
      for (const p of ports) {
        const l = listeners.find((x) => listenerBlocks(x, p));
        if (l) {
          const where = `${l.address.includes('.') ? l.address : `[${l.address}]`}:${l.port}`;
          throw new ConflictError(`publish ${formatHostPort(p)}: host port ${p.hostPort}/${p.protocol} is in use by another program (listening on ${where})`, { port: p });
        }
      }
      // Bound before the rules exist: a program that binds the port between the check above and
      // here is found now (EADDRINUSE) instead of silently losing its traffic.
      await this.o.holder?.hold(id, ports);
      const added: PublishedPort[] = ports.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, containerIp }));
      try {
        await this.store.save({ ...all, [id]: [...(all[id] ?? []), ...added] });
        await this.nft(`publish ports of ${id.slice(0, 12)} in`, publishScript(this.o.table, id, containerIp, ports));
      } catch (err) {
        await this.store.save(all).catch(() => {});
        await this.o.holder?.release(id);
        throw err;
      }
    });
  }

  /**
   * Remove `id`'s rules (by handle) and record. Idempotent. A record is written before its rules
   * and removed after them, so without a record there is no rule to look for (the common case of
   * a container that published nothing costs no `nft` call); `removeUnknown` covers the rest.
   */
  async unpublish(id: string): Promise<void> {
    await this.mutex.run('ports', async () => {
      await this.o.holder?.release(id);
      if (!(id in (await this.store.load()))) return;
      const handles = (await this.rules()).filter((r) => r.comment === id).map((r) => r.handle);
      if (handles.length > 0) await this.nft(`unpublish ports of ${id.slice(0, 12)} in`, deleteRulesScript(this.o.table, PORTS_CHAIN, handles));
      const all = await this.store.load();
      if (all[id]) {
        delete all[id];
        await this.store.save(all);
      }
    });
  }

  /**
   * At corrald's start: hold again the host ports recorded for running containers (the sockets
   * closed with the previous corrald). A port a host program took meanwhile is returned, not thrown:
   * its container keeps its DNAT rule, as before.
   */
  async holdRecorded(): Promise<{ id: string; error: string }[]> {
    const holder = this.o.holder;
    if (!holder) return [];
    return this.mutex.run('ports', async () => {
      const failed: { id: string; error: string }[] = [];
      for (const [id, list] of Object.entries(await this.store.load())) {
        if (holder.holds(id)) continue;
        try {
          await holder.hold(id, list);
        } catch (err) {
          failed.push({ id, error: (err as Error).message });
        }
      }
      return failed;
    });
  }

  async published(): Promise<Record<string, PublishedPort[]>> {
    return this.store.load();
  }

  /** Remove the rules and records of containers not in `known`; returns their ids. */
  async removeUnknown(known: ReadonlySet<string>): Promise<string[]> {
    return this.mutex.run('ports', async () => {
      const stale = (await this.rules()).filter((r) => r.comment !== undefined && !known.has(r.comment));
      if (stale.length > 0) await this.nft('remove stale port rules from', deleteRulesScript(this.o.table, PORTS_CHAIN, stale.map((r) => r.handle)));
      const all = await this.store.load();
      const unknown = Object.keys(all).filter((id) => !known.has(id));
      for (const id of unknown) delete all[id];
      if (unknown.length > 0) await this.store.save(all);
      for (const id of new Set([...stale.map((r) => r.comment!), ...unknown])) await this.o.holder?.release(id);
      return [...new Set([...stale.map((r) => r.comment!), ...unknown])].sort();
    });
  }

  private async rules(): Promise<TaggedRule[]> {
    const r = await this.o.runner.run('nft', ['-j', 'list', 'chain', FAMILY, this.o.table, PORTS_CHAIN], { allowFailure: true });
    if (r.exitCode !== 0) {
      if (GONE.test(r.stderr)) return []; // no table yet (or any more): no rules
      throw new NetworkError(`list chain ${PORTS_CHAIN} of table ${FAMILY} ${this.o.table}: ${r.stderr.trim().split('\n')[0]}`, { table: this.o.table });
    }
    return parseChainRules(r.stdout);
  }

  private async nft(operation: string, script: string): Promise<void> {
    try {
      await this.o.runner.run('nft', ['-f', '-'], { input: script });
    } catch (err) {
      throw networkFailure(operation, `table ${FAMILY} ${this.o.table}`, err);
    }
  }
}
