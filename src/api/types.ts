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
export type UpdateRequest = Omit<LimitRequest, 'oomScoreAdj'>;

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
export const STATUSES = ['created', 'running', 'exited', 'restarting'] as const;
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
}

export interface ExecRequest {
  command: string[];
  env?: string[];
  user?: string;
  workdir?: string;
  tty?: boolean;
  interactive?: boolean;
}

export interface TemplateInfo {
  name: string;
  path: string;
  builtAt: string | null;
  sizeBytes: number | null;
  /** Whether it has been built yet; templates build on first use. */
  built: boolean;
  description: string;
}

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
}
