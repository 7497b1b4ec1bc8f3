/** Named volumes (`corral volume …`, `-v NAME:/path`): directories of corrald's own, under the data root. */

/** POST /v1/volumes. */
export interface VolumeCreateRequest {
  /** Absent: a random 64-hex name (an anonymous volume, as Docker's). */
  name?: string;
  labels?: Record<string, string>;
}

export interface VolumeInfo {
  name: string;
  /** Always `local`: a directory on the data root's filesystem. */
  driver: 'local';
  /** Where its files are on the host. */
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
  /** Names of the containers (running or not) that mount it. */
  usedBy: string[];
  /** Bytes of its files (GET /v1/volumes/:name only; null in lists). */
  size: number | null;
}

/** POST /v1/volumes/prune: the unused volumes removed. */
export interface VolumePruneReport {
  removed: string[];
  spaceReclaimed: number;
}
