import type { ContainerConfig } from '../../api/types.js';
import { unshareArgs } from '../../namespaces/argv.js';
import { renderHosts } from '../etc-files.js';
import type { ContainerStore } from '../store.js';
import { readOr, writeEtc } from './etc.js';
import type { NetworkMode } from './mode.js';

export const HOST_MODE_WARNING =
  "--network host: the container shares the host's network namespace: it can bind any host port, reach services listening on the host's loopback, and with CAP_NET_RAW (a default capability) send raw packets on the host's interfaces";

/** `--network host`: the chain's `unshare` leaves out `--net`; /etc/hosts follows the host's. */
export class HostMode implements NetworkMode {
  readonly name = 'host';

  constructor(private readonly d: { store: ContainerStore; unshare?: string | undefined; hostHosts?: string | undefined; hostResolvConf?: string | undefined }) {}

  async validate(): Promise<void> {}

  async setUp(c: ContainerConfig): Promise<readonly string[]> {
    await writeEtc(this.d, c, async () => renderHosts({ hostname: c.hostname, self: null, peers: [], extra: c.extraHosts ?? [], host: await readOr(this.d.hostHosts ?? '/etc/hosts', '') }));
    return unshareArgs(this.d.unshare, { net: false });
  }

  async tearDown(): Promise<void> {}

  networks(): { name: string; ip: string | null }[] {
    return [{ name: 'host', ip: null }];
  }

  warnings(): string[] {
    return [HOST_MODE_WARNING];
  }
}
