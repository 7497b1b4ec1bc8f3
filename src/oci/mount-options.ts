/**
 * config.json mount options → mount(2) flags, propagation and data, as runc and crun read them
 * (runtime-spec config.md "Mounts"; the flag names are mount(8)'s). Options that only mean
 * something to an engine's own helpers (tmpcopyup, SELinux relabels) are dropped.
 */

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

const SET: Record<string, number> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT,
  mand: MS.MANDLOCK,
  dirsync: MS.DIRSYNC,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  relatime: MS.RELATIME,
  strictatime: MS.STRICTATIME,
};

const CLEAR: Record<string, number> = {
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  dev: MS.NODEV,
  exec: MS.NOEXEC,
  async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK,
  atime: MS.NOATIME,
  diratime: MS.NODIRATIME,
  norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME,
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Engine-side options with no meaning to mount(2). */
const IGNORED = new Set(['tmpcopyup', 'notmpcopyup', 'copy-symlink', 'z', 'Z', 'U', 'idmap', 'ridmap', 'rro', 'rrw', 'nocopy', 'defaults']);

export interface MountOptions {
  flags: number;
  propagation: number;
  data: string;
}

export function parseMountOptions(options: readonly string[] = []): MountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options) {
    if (SET[o] !== undefined) flags |= SET[o];
    else if (CLEAR[o] !== undefined) flags &= ~CLEAR[o];
    else if (PROPAGATION[o] !== undefined) propagation = PROPAGATION[o];
    else if (!IGNORED.has(o)) data.push(o);
  }
  return { flags, propagation, data: data.join(',') };
}

/** rootfsPropagation → the flags for `/` (0: the default, rprivate). */
export function rootPropagation(p: string | undefined): number {
  if (p === undefined || p === '') return 0;
  const v = PROPAGATION[p];
  if (v === undefined) throw new Error(`rootfsPropagation ${p}: not one of ${Object.keys(PROPAGATION).join(', ')}`);
  return v;
}
