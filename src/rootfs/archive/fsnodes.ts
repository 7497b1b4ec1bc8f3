import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CorralError } from '../../errors.js';
import { packageRoot } from '../../util/package-root.js';

/** build/fsnodes.node (src/native/addon/fsnodes.c): what Node's fs lacks. Symlinks are never followed. */
export interface FsNodes {
  /** `mode` includes the type bits (S_IFIFO, S_IFCHR). */
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** null when the attribute is absent. */
  lgetxattr(path: string, name: string): Buffer | null;
  /**
   * `path` resolved below the directory `root` as if `root` were `/` (openat2 RESOLVE_IN_ROOT, no
   * /proc magic links): a symlink can never lead outside it. `flags` are open(2)'s; returns the fd.
   */
  openInRoot(root: string, path: string, flags: number): number;
}

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;

let loaded: FsNodes | undefined;

export function fsNodes(): FsNodes {
  if (loaded) return loaded;
  const path = join(packageRoot(), 'build', 'fsnodes.node');
  try {
    loaded = createRequire(import.meta.url)(path) as FsNodes;
  } catch (err) {
    throw new CorralError('unavailable', `load ${path}: ${(err as Error).message.split('\n')[0]} (run "npm run build")`);
  }
  return loaded;
}
