/** `corral cp`: GET/PUT /v1/containers/:ref/archive?path=P and HEAD-like GET …/archive/stat. */

/** A path inside a container as `corral cp` sees it (the last component not followed). */
export interface PathStat {
  /** The last component ('/' for the root). */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** Permission bits (07777). */
  mode: number;
  mtime: string;
  /** A symlink's value; '' otherwise. */
  linkTarget: string;
}

/** What PUT …/archive wrote. */
export interface CopyInResult {
  entries: number;
  bytes: number;
  /** Skipped members (device nodes) and dropped attributes. */
  warnings: string[];
}
