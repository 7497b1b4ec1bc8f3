import type { ContainerConfig, UsernsConfig } from '../api/types.js';

/**
 * The host uid and gid that a container's root is: what host-side objects the container may own
 * are given to (a delegated cgroup directory chowned to them, as for a system container's init).
 * Host root for `--userns host`; the base of its range otherwise.
 */
export function hostRootIds(c: Pick<ContainerConfig, 'userns'>): { uid: number; gid: number } {
  return c.userns.mode === 'private' ? { uid: c.userns.uidBase, gid: c.userns.gidBase } : { uid: 0, gid: 0 };
}

/** The host uid of container uid `id` (undefined when it is outside the container's map). */
export function hostUid(u: UsernsConfig, id: number): number | undefined {
  if (u.mode === 'host') return id;
  return id >= 0 && id < u.size ? u.uidBase + id : undefined;
}
