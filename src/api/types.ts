import type { AppliedSetting, CgroupStats, Limits } from '../cgroups/limits.js';
import type { RestartPolicy } from '../runtime/restart-policy.js';

/**
 * Request and response bodies of corrald's HTTP/JSON API. The CLI and the daemon both use these;
 * docs/api.md describes them for users.
 */

export interface VolumeSpec {
  /** Absolute host path; must exist. */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
}

/**
 * Resource limits as the user wrote them (Docker's flag names and units; numbers allowed where a
 * flag takes a number). Validated by src/runtime/limits.ts before anything is created.
 */
export interface LimitRequest {
  cpus?: string | number;
  cpuShares?: string | number;
  cpuWeight?: string | number;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: string | number;
  memoryReservation?: string | number;
  memorySwap?: string | number;
  oomScoreAdj?: string | number;
  pidsLimit?: string | number;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  blkioWeight?: string | number;
}

/** POST /v1/containers: everything `corral create`/`run` can set. Validated by src/runtime/spec.ts. */
export interface CreateRequest {
  name?: string;
  template: string;
  /** Program and arguments; empty means the template's default (`sh`). */
  command?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  readOnly?: boolean;
  volumes?: VolumeSpec[];
  capAdd?: string[];
  capDrop?: string[];
  init?: boolean;
  tty?: boolean;
  /** Keep stdin open for attach (`-i`). */
  interactive?: boolean;
  /** Remove the container when it exits (`--rm`). */
  autoRemove?: boolean;
  labels?: Record<string, string>;
  limits?: LimitRequest;
  /** `no` (default), `on-failure[:MAX]`, `always`, `unless-stopped`. */
  restart?: string;
  /** `test` is a string (run with sh -c) or a list; durations like `30s`. */
  healthcheck?: { test: string | string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string; onFailure?: string };
  /** Run even where a requested limit's controller is missing on this host (it is then not enforced). */
  ignoreMissingLimits?: boolean;
  /**
   * `bridge` (the default network), `none` (loopback only), `host` (the host's network namespace),
   * or network names; several names join several networks, the first one has the default route.
   */
  network?: string[];
  /** A fixed IPv4 address on the first network (`--ip`). */
  ip?: string;
  /** More names the container answers to on its networks (`--network-alias`). */
  networkAliases?: string[];
  /** `-p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]`. */
  publish?: string[];
  /** `-P`: publish every `expose` port on a random free host port. */
  publishAll?: boolean;
  /** `--expose PORT[/tcp|udp]`: ports `-P` publishes. */
  expose?: string[];
  /** Nameservers for the container's /etc/resolv.conf instead of the host's (`--dns`). */
  dns?: string[];
}

export type NetworkMode = 'bridge' | 'none' | 'host';
export type PortProtocol = 'tcp' | 'udp';

/** A host port forwarded to a container port (`-p`). `hostIp` 0.0.0.0 is every host address. */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

export interface ExposedPort {
  port: number;
  protocol: PortProtocol;
}

/** One network a bridge-mode container joins. */
export interface NetworkEndpointConfig {
  network: string;
  /** Fixed address, or null for the next free one at each start. */
  ip: string | null;
  aliases: string[];
}

/** How a container is networked; validated at create (src/runtime/spec.ts, src/runtime/networking.ts). */
export interface ContainerNetworkConfig {
  mode: NetworkMode;
  /** bridge mode: the networks in order (the first has the default route and the published ports). */
  networks: NetworkEndpointConfig[];
  ports: PortBinding[];
  expose: ExposedPort[];
  publishAll: boolean;
  /** Nameservers for /etc/resolv.conf; empty: the host's, minus loopback ones. */
  dns: string[];
}

/** The validated, defaulted container configuration, stored as config.json. */
export interface ContainerConfig {
  id: string;
  name: string;
  template: string;
  command: string[];
  env: string[];
  workdir: string;
  user: string;
  hostname: string;
  readOnly: boolean;
  volumes: VolumeSpec[];
  capabilities: string[];
  init: boolean;
  tty: boolean;
  interactive: boolean;
  autoRemove: boolean;
  labels: Record<string, string>;
  /** The limits as the user asked for them (flags), and as validated and normalized. */
  limitRequest: LimitRequest;
  limits: Limits;
  ignoreMissingLimits: boolean;
  oomScoreAdj: number | null;
  restartPolicy: RestartPolicy;
  healthcheck: HealthConfig | null;
  network: ContainerNetworkConfig;
  createdAt: string;
}

/** A validated health check (Docker's HEALTHCHECK; onFailure as Podman's --health-on-failure). */
export interface HealthConfig {
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  onFailure: 'none' | 'kill' | 'restart' | 'stop';
}

export interface HealthState {
  status: 'starting' | 'healthy' | 'unhealthy';
  failingStreak: number;
  /** The last 5 probes. */
  log: { start: string; end: string; exitCode: number; output: string }[];
}

/** What `corral update` changes; only the limits named are touched. */
export type UpdateRequest = Omit<LimitRequest, 'oomScoreAdj'> & {
  /** A new restart policy (takes effect at the next exit). */
  restart?: string;
  /** Replaces the labels. */
  labels?: Record<string, string>;
};

export interface UpdateResponse {
  id: string;
  /** What was written to which kernel file (empty when the container is not running). */
  applied: AppliedSetting[];
}

/** GET /v1/containers/{ref}/stats: raw counters read from the kernel at `time`. */
export interface StatsSample {
  id: string;
  name: string;
  time: string;
  cgroup: CgroupStats;
  /** Bytes received and sent on the container's interfaces other than lo. */
  network: { rxBytes: number; txBytes: number };
  /** Online CPUs of the host, for CPU %. */
  onlineCpus: number;
}

/** GET /v1/events: one line per event. */
export interface CorralEvent {
  time: string;
  type: 'create' | 'start' | 'die' | 'oom' | 'kill' | 'stop' | 'restart' | 'destroy' | 'update' | 'health_status';
  id: string;
  name: string;
  attributes: Record<string, string | number | boolean | null>;
}

/** `restarting`: exited, with a restart by its policy pending (back-off). */
export const STATUSES = ['created', 'running', 'exited', 'restarting', 'broken'] as const;
export type Status = (typeof STATUSES)[number];

export interface ContainerState {
  status: Status;
  /** Host pid of the container's PID 1 while running. */
  pid: number | null;
  monitorPid: number | null;
  exitCode: number | null;
  /** Signal that killed PID 1, if one did. */
  signal: number | null;
  /** Set when the container could not start (for example, command not found). */
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The kernel's OOM killer killed a process of this container (read from the cgroup). */
  oomKilled: boolean;
  oomKills: number;
  /** Which limit was hit, when oomKilled. */
  oomMessage: string | null;
  /** Restarts done by the restart policy. */
  restartCount: number;
  /** When a pending policy restart is due (status `restarting`). */
  nextRestartAt: string | null;
  /** Present when the container has a health check (while it runs, and its last verdict after). */
  health: HealthState | null;
}

export interface MountInfo {
  type: 'overlay' | 'bind' | 'proc' | 'sysfs' | 'tmpfs' | 'devpts' | 'mqueue';
  source: string;
  destination: string;
  options: string[];
}

/** A running container's interface on one network. */
export interface EndpointSettings {
  network: string;
  bridge: string;
  /** The interface inside the container (`eth0`, `eth1`, …). */
  ifname: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  /** The host side of the veth. */
  hostVeth: string;
  aliases: string[];
}

/** inspect's network section (Docker's NetworkSettings): addresses while running, config otherwise. */
export interface NetworkSettings {
  mode: NetworkMode;
  /** The networks joined while running (empty otherwise), by name. */
  networks: Record<string, EndpointSettings>;
  /** The first network's address, while running. */
  ipAddress: string | null;
  gateway: string | null;
  macAddress: string | null;
  /** The ports in force while running (with `-P`'s host ports); as configured otherwise. */
  ports: PortBinding[];
  /** The container's network namespace file while running (bridge mode). */
  sandboxKey: string | null;
  /** For example that `host` mode shares the host's network stack. */
  warnings: string[];
}

export interface ContainerInspect {
  id: string;
  name: string;
  config: ContainerConfig;
  state: ContainerState;
  networkSettings: NetworkSettings;
  rootfs: { lower: string[]; upper: string; work: string; mountpoint: string };
  mounts: MountInfo[];
  cgroup: { driver: 'v1' | 'v2'; paths: string[] };
  /** Each limit: what the user asked for and what was written to which kernel file. */
  limits: AppliedSetting[];
  logPath: string;
}

export interface ContainerSummary {
  id: string;
  name: string;
  template: string;
  command: string[];
  status: Status;
  /** Human status like Docker's: "Up 5 seconds", "Exited (0) 3 minutes ago", "Created". */
  statusText: string;
  exitCode: number | null;
  pid: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The network mode, and per network the container's address while it runs (else null). */
  networkMode: NetworkMode;
  networks: { name: string; ip: string | null }[];
  /** Published ports: in force while running, as configured otherwise. */
  ports: PortBinding[];
  /** The manifest the container came from (its `corral.manifest` label), if any. */
  manifest: string | null;
}

/** POST /v1/networks. */
export interface NetworkCreateRequest {
  name: string;
  /** IPv4 subnet such as 10.89.0.0/16; default: the first free candidate. */
  subnet?: string;
}

/** GET /v1/networks: one per network, the modes `host` and `none` included. */
export interface NetworkSummary {
  name: string;
  /** `bridge` for the default and user-defined networks; `host` and `null` for the modes. */
  driver: 'bridge' | 'host' | 'null';
  bridge: string | null;
  subnet: string | null;
  gateway: string | null;
  createdAt: string | null;
  /** Containers attached now (running). */
  containers: number;
}

/** GET /v1/networks/{name}. */
export interface NetworkInspect extends Omit<NetworkSummary, 'containers'> {
  /** nftables table (family inet) holding the network's NAT and port rules. */
  table: string | null;
  /** Running containers on the network. */
  endpoints: { id: string; name: string; ipAddress: string; macAddress: string; hostVeth: string; aliases: string[] }[];
  /** Containers configured with the network, running or not (they keep `network rm` from removing it). */
  configured: { id: string; name: string }[];
  /** Host ports forwarded into the network. */
  ports: (PortBinding & { container: string; containerIp: string })[];
}

export interface ExecRequest {
  command: string[];
  env?: string[];
  user?: string;
  workdir?: string;
  tty?: boolean;
  interactive?: boolean;
}

/** Where a template came from (docs/templates.md). */
export type TemplateOrigin =
  | { kind: 'recipe'; recipe: string; args: Record<string, string> }
  | { kind: 'archive'; format: 'rootfs-tar' | 'docker-archive' | 'oci-layout'; file: string; digest: string; tag?: string }
  | { kind: 'commit'; container: string; containerName: string; parent: string; flattened: boolean };

/** What a container of the template gets unless its request says otherwise. */
export interface TemplateDefaults {
  command: string[];
  entrypoint: string[];
  env: string[];
  /** '' means `/`. */
  workdir: string;
  /** '' means root. */
  user: string;
  /** '' means SIGTERM. */
  stopSignal: string;
}

export interface TemplateLayerInfo {
  path: string;
  digest: string;
  sizeBytes: number;
  /** The template whose directory holds the layer. */
  owner: string;
}

export interface TemplateInfo {
  name: string;
  /**
   * ready: usable; recipe: a build recipe of the package, not built yet (`corral template build`);
   * invalid: a directory in the data root that is not a usable template (`problem` says why).
   */
  status: 'ready' | 'recipe' | 'invalid';
  problem: string | null;
  /** The top layer (the only one for a template that has one). */
  path: string;
  builtAt: string | null;
  /** All its layers, own and shared. */
  sizeBytes: number | null;
  /** Whether it is ready; recipes marked autoBuild (busybox) build on first use. */
  built: boolean;
  autoBuild: boolean;
  description: string;
  source: TemplateOrigin | null;
  digest: string | null;
  parent: string | null;
  /** Top first, as overlayfs stacks them. */
  layers: TemplateLayerInfo[];
  /** Its own layers; `sharedSizeBytes`: the layers it shares with (uses from) its parent. */
  ownSizeBytes: number | null;
  sharedSizeBytes: number | null;
  defaults: TemplateDefaults | null;
  /** Containers made from it; templates that stack on its layers. */
  containers: { id: string; name: string }[];
  children: string[];
}

export interface TemplateBuildRequest {
  recipe: string;
  /** Default: the recipe's name. */
  name?: string;
  /** Recipe options (debian: suite, include). */
  args?: Record<string, string>;
}

export interface TemplateCommitRequest {
  container: string;
  name: string;
  description?: string;
}

export interface TemplateCommitResponse {
  template: TemplateInfo;
  warnings: string[];
}

/** One line of a streamed template operation (build, prepare): progress lines, then a result or an error. */
export type TemplateProgressLine = { progress: string } | { template: TemplateInfo } | ApiErrorBody;

export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface VersionInfo {
  version: string;
  apiVersion: string;
  pid: number;
  dataRoot: string;
  runRoot: string;
  cgroupDriver: 'v1' | 'v2';
  cgroupParent: string;
  /** Names of this installation's bridges and nftables tables, `<prefix><n>`. */
  bridgePrefix: string;
}
