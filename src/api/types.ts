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
  createdAt: string;
}

export const STATUSES = ['created', 'running', 'exited'] as const;
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
