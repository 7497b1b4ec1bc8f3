/** GET /v1/containers/{ref}/top: Docker's ContainerTopOKBody. */
export interface ContainerTop {
  titles: string[];
  processes: string[][];
}

/** GET /v1/containers/{ref}/changes: one entry per path, Docker's kinds (A added, C changed, D deleted). */
export interface ContainerChange {
  path: string;
  kind: 'A' | 'C' | 'D';
}

/** POST /v1/containers/prune. */
export interface PruneReport {
  deleted: { id: string; name: string }[];
  /** Bytes of writable layers freed. */
  spaceReclaimed: number;
}

/** GET /v1/system/df: what the installation holds on disk. */
export interface DiskUsage {
  templates: { name: string; size: number; containers: number }[];
  containers: { id: string; name: string; template: string; status: string; size: number }[];
  /** Host directories bound in (`-v`): not Corral's to size (null). */
  volumes: { source: string; target: string; containers: string[]; size: number | null }[];
}
