import type { ContainerConfig } from '../../api/types.js';
import { renderHosts } from '../etc-files.js';
import type { ContainerStore } from '../store.js';
import { writeEtc } from './etc.js';
import type { NetworkMode } from './mode.js';

/** `--network none`: a namespace of its own with only loopback, made by the chain's `unshare --net`. */
export class NoneMode implements NetworkMode {
  readonly name = 'none';

  constructor(private readonly d: { store: ContainerStore; hostResolvConf?: string | undefined }) {}

  async validate(): Promise<void> {}

  async setUp(c: ContainerConfig): Promise<undefined> {
    await writeEtc(this.d, c, () => renderHosts({ hostname: c.hostname, self: null, peers: [], extra: c.extraHosts ?? [] }));
    return undefined;
  }

  async tearDown(): Promise<void> {}

  networks(): { name: string; ip: string | null }[] {
    return [{ name: 'none', ip: null }];
  }

  warnings(): string[] {
    return [];
  }
}
