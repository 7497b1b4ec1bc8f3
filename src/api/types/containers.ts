import type { AppliedSetting, LimitRequest, Limits } from './limits.js';
import type { ContainerNetworkConfig, NetworkMode, NetworkSettings, PortBinding } from './networks.js';

export interface VolumeSpec {
  /** Absolute host path; must exist. */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
  /**
   * `-v SRC:DST:idmap`: mounted through the container's user namespace, so its files keep their
   * host owners (container root acts as host root on them). Without it, files the container makes
   * belong to its own host id range.
   */
  idmap?: boolean;
}

/**
 * The container's user namespace: `private` (the default) maps its ids 0..size-1 onto host ids
 * from uidBase/gidBase, a range of Corral's pool held by this container alone; `host` shares the
 * host's (container root is host root: `--userns host`).
 */
export type UsernsConfig = { mode: 'host' } | { mode: 'private'; uidBase: number; gidBase: number; size: number };

/** POST /v1/containers: everything `corral create`/`run` can set. Validated by src/runtime/spec.ts. */
export interface CreateRequest {
  name?: string;
  template: string;
  /** Program and arguments; empty means the template's default (`sh`). */
  command?: string[];
  /** Replaces the template's entrypoint (Docker's `--entrypoint`); `[]` clears it. */
  entrypoint?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  readOnly?: boolean;
  volumes?: VolumeSpec[];
  /** `host` shares the host's user namespace; absent or `private`: one of its own (the default). */
  userns?: 'host' | 'private';
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
  /** false (`--no-lxcfs`): the container sees the host's /proc/meminfo, cpuinfo, uptime, ... (docs/vps.md). */
  lxcfs?: boolean;
  /** Docker's `--storage-opt KEY=VALUE`: `size` (e.g. `10G`) gives the container a disk of its own. */
  storageOpt?: Record<string, string>;
  /**
   * Docker's `--security-opt` as its API takes it: `seccomp=unconfined`, `seccomp=<profile JSON>`
   * (the CLI sends the file's text), `no-new-privileges`. Validated by src/security/seccomp.ts.
   */
  securityOpt?: string[];
  /** Where a `seccomp=<profile JSON>` was read from (shown by inspect and in errors). */
  seccompSource?: string;
  /**
   * A system container (`--boot`): the template's `/sbin/init` runs as PID 1 with what systemd's
   * container interface asks for (docs/vps.md, "System containers").
   */
  boot?: boolean;
  /** The signal `stop` sends first (Docker's `--stop-signal`): a name (`SIGTERM`, `RTMIN+3`) or a number. */
  stopSignal?: string;
}

/** How a container's disk quota is kept (see docs/vps.md, "Disk quotas"). */
export type StorageBackend = 'loop-ext4';

/** A container's disk quota: its writable layer cannot grow past `sizeBytes`. */
export interface DiskConfig {
  backend: StorageBackend;
  sizeBytes: number;
}

/** Where a quota'd container's writable layer lives (inspect). */
export interface StorageInfo {
  backend: StorageBackend;
  sizeBytes: number;
  /** The ext4 image that holds upper/ and work/. */
  image: string;
  /** Where the image is mounted on the host while the container runs. */
  mountpoint: string;
  /** The overlay's upper layer (inside the image: readable on the host only while mounted). */
  upper: string;
}

/** Docker's restart policies. */
export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure:N — give up after N restarts; null: no limit. */
  maxRetries: number | null;
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
  /** false: no LXCFS binds (`--no-lxcfs`); absent: bound when corrald runs lxcfs. */
  lxcfs?: false;
  seccomp: SeccompConfig;
  userns: UsernsConfig;
  createdAt: string;
  /** `--storage-opt size=`: a disk of its own; absent or null: the writable layer shares the data root. */
  storage?: DiskConfig | null;
  /** A system container: PID 1 is the template's init, booted (`--boot`). */
  boot: boolean;
  /** What `stop` sends first, normalized (`SIGTERM`, `SIGRTMIN+3`, or a number as text). */
  stopSignal: string;
}

/** The container's seccomp profile; its files are in the container's directory (src/security/seccomp.ts). */
export interface SeccompConfig {
  /** `default`: Corral's profile (Docker's semantics); `custom`: the user's; `unconfined`: no filter. */
  profile: 'default' | 'custom' | 'unconfined';
  /** The file a custom profile was read from. */
  source: string | null;
  /** sha256 of the profile text in force (seccomp.json); null when unconfined. */
  sha256: string | null;
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
  /** `size` only, and only larger: the disk grows while the container is stopped (at its next start if it runs). */
  storageOpt?: Record<string, string>;
};

export interface UpdateResponse {
  id: string;
  /** What was written to which kernel file (empty when the container is not running). */
  applied: AppliedSetting[];
  /** What the user should know (a disk grow that waits for the next start). */
  warnings?: string[];
}

/** `restarting`: exited, with a restart by its policy pending (back-off). */
export const STATUSES = ['created', 'running', 'paused', 'exited', 'restarting', 'broken'] as const;
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

export interface ContainerInspect {
  id: string;
  name: string;
  config: ContainerConfig;
  state: ContainerState;
  networkSettings: NetworkSettings;
  rootfs: { lower: string[]; upper: string; work: string; mountpoint: string };
  mounts: MountInfo[];
  /** The container's disk quota, if it has one. */
  storage: StorageInfo | null;
  /** `paths`: where the limits are (one per hierarchy); `processes`: their children holding the processes. */
  cgroup: { driver: 'v1' | 'v2'; paths: string[]; processes: string[] };
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
  /** Its labels (`ps --filter label=`, `{{.Labels}}`). */
  labels: Record<string, string>;
}
