/**
 * One interface over cgroup v2 (the design centre) and v1 (hybrid or legacy hosts). The cgroup
 * root is a parameter so unit tests run against a fake cgroupfs in a temp dir.
 */
export type CgroupDriverName = 'v1' | 'v2';

export interface CgroupManager {
  readonly driver: CgroupDriverName;
  /** Make sure Corral's own subtree exists and is usable (controllers enabled, cpuset filled). */
  ensureParent(): Promise<void>;
  /** Create the container's cgroup; idempotent. */
  create(id: string): Promise<void>;
  /** Absolute cgroup directories of the container (one per v1 hierarchy, one on v2). */
  paths(id: string): string[];
  /** The cgroup.procs files a process writes its pid into to join the container's cgroup. */
  procsFiles(id: string): string[];
  /** Pids currently in the container's cgroup. */
  pids(id: string): Promise<number[]>;
  /** Remove the container's cgroup; idempotent, waits briefly for exiting tasks. */
  remove(id: string): Promise<void>;
  /** Container cgroups that exist under Corral's subtree (for leak checks and re-adoption). */
  list(): Promise<string[]>;
}
