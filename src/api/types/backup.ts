import type { CreateRequest } from './containers.js';

/**
 * A backup archive (docs/backup.md): a tar stream (gzip- or zstd-compressed, or plain) whose first
 * member is `corral-backup.json` (BackupHeader), then the container's writable layer under
 * `upper/` (owners relative to its user namespace range), then with `--include-template` the
 * template's layers under `template/<n>/`, and last `manifest.json` (BackupManifest): the sha256
 * and metadata of every member before it, what an incremental deletes, and the layer's state for
 * the next `--since`.
 */
export const BACKUP_FORMAT = 'corral-backup';
export const BACKUP_VERSION = 1;
export const BACKUP_HEADER_MEMBER = 'corral-backup.json';
export const BACKUP_MANIFEST_MEMBER = 'manifest.json';

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  /** 32 hex digits, new for every backup. */
  backupId: string;
  kind: 'full' | 'incremental';
  /** The backup an incremental applies on (its backupId); null for a full one. */
  base: string | null;
  createdAt: string;
  container: {
    id: string;
    name: string;
    /** The create request that gives back the same config (validated like any create at restore). */
    request: CreateRequest;
    /** `private`: owners in `upper/` are relative to the container's range; `host`: host ids as they are. */
    userns: 'private' | 'host';
  };
  template: { name: string; digest: string; included: boolean; layers: number };
}

export type BackupMemberType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'whiteout' | 'fifo';

/** One tar member as the manifest records it; a restore compares each member it reads with its record. */
export interface BackupMember {
  name: string;
  type: BackupMemberType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Files: sha256 (hex) of the content. */
  sha256?: string;
  /** Symlink value or hardlink target. */
  link?: string;
  /** Extended attributes carried (name → base64). */
  xattrs?: Record<string, string>;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  backupId: string;
  /** Every member before manifest.json, in order. */
  members: BackupMember[];
  /** Incremental: paths of the layer (below upper/) the base has and this backup no longer does. */
  deletions: string[];
  /** The whole layer after this backup, path → fingerprint, for the next `--since`. */
  state: Record<string, string>;
  warnings: string[];
}

/** POST /v1/containers/:ref/backup (the answer is the archive itself). */
export interface BackupRequest {
  includeTemplate?: boolean;
  compression?: 'gzip' | 'zstd' | 'none';
  /** The previous backup's id and state (from its manifest): only what changed since travels. */
  since?: { backupId: string; state: Record<string, string> };
}

/** POST /v1/restore?name=N&start=true (or ?onto=C for an incremental on a restored container). */
export interface RestoreResult {
  id: string;
  name: string;
  backupId: string;
  kind: 'full' | 'incremental';
  /** The template imported from the archive, if one was. */
  templateImported: string | null;
  started: boolean;
  entries: number;
  bytes: number;
  warnings: string[];
}

export interface SnapshotInfo {
  name: string;
  createdAt: string;
  /** How long the container was frozen for the copy (0 when it was not running). */
  frozenMs: number;
  sizeBytes: number;
}

export interface SnapshotCreateResult extends SnapshotInfo {
  container: string;
}

export interface CloneRequest {
  name: string;
  /** `-p` bindings for the clone (the original's host ports are not copied: both could not run). */
  publish?: string[];
}
