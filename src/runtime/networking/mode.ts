import type { ContainerConfig, NetworkMode as ModeName } from '../../api/types.js';
import type { NetnsStore, NetworkRegistry } from '../../network/index.js';
import type { Runner } from '../../system/runner.js';
import type { Logger } from '../../util/logger.js';
import type { ContainerStore } from '../store.js';
import type { NetworkRecord } from './record.js';

export type { ModeName };

export interface NetworkingDeps {
  registry: NetworkRegistry;
  runner: Runner;
  netns: NetnsStore;
  store: ContainerStore;
  log: Logger;
  /** Committed containers (the index). */
  containers: () => ContainerConfig[];
  unshare?: string;
  nsenter?: string;
  /** corral-shim: makes the network namespace of a container with its own user namespace. */
  shim?: string;
  /** The host's files the container's /etc files follow. */
  hostHosts?: string;
  hostResolvConf?: string;
  /** The host's listening sockets (a published port must not shadow one). */
  procNet?: string;
  /** Where `-P` picks host ports; default: the kernel's ephemeral range. */
  portRange?: () => Promise<[number, number]>;
}

export interface TearDownOptions {
  /** Something other than the container's own processes may still hold its namespace. */
  processesMayRemain?: boolean;
}

/**
 * One way of networking a container (`--network none|host|bridge`; later: joining a namespace
 * path, for pods). The facade (index.ts) picks the mode from `c.network.mode` and adds what all
 * modes share: the `-P` warning, the inspect settings, the CRUD of networks.
 */
export interface NetworkMode {
  readonly name: ModeName;
  /** Create-time checks, before anything is made. */
  validate(c: ContainerConfig): Promise<void>;
  /**
   * Before the program runs: writes the container's /etc/hosts and /etc/resolv.conf and returns
   * the namespace part of the monitor's chain (`undefined`: the usual `unshare --net`). On
   * failure, whatever was made is undone.
   */
  setUp(c: ContainerConfig): Promise<readonly string[] | undefined>;
  /** After the container stopped (or a failed start, or rm). Idempotent; spawns nothing when there is nothing to undo. */
  tearDown(c: ContainerConfig, o: TearDownOptions): Promise<void>;
  /** The `ps` NETWORKS column; `rec` is what a running container got, if anything. */
  networks(c: ContainerConfig, rec: NetworkRecord | undefined): { name: string; ip: string | null }[];
  /** Warnings specific to this mode, shown at create and in inspect. */
  warnings(c: ContainerConfig): string[];
}
