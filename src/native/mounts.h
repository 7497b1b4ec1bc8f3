/* Mounts of the init stage (steps 2-6 of docs/shim.md). Every target inside
 * the rootfs is resolved with openat2(RESOLVE_IN_ROOT) and mounted through
 * its fd, so a symlink the container planted cannot point a mount outside. */
#ifndef CORRAL_MOUNTS_H
#define CORRAL_MOUNTS_H

#include <stddef.h>
#include <sys/types.h>

enum create { CREATE_NONE, CREATE_DIR, CREATE_FILE };

struct bind {
  const char *src, *dst;
  int ro;
  int idmap; /* mounted through the container's user namespace (MOUNT_ATTR_IDMAP) */
  /* A detached copy made by host root for PID 1 to attach (mount_deferred_binds), else -1. */
  int tree;
  enum create create; /* what the target is made as if missing, decided with the copy */
};

struct mounts {
  const char *rootfs;
  const char **lower;
  size_t nlower;
  const char *upper, *work;
  struct bind *binds;
  size_t nbinds;
  const char **masks;
  size_t nmasks;
  const char **ro_paths;
  size_t nro;
  int read_only, tty;
  /* With a private user namespace (userns.h): its fd while host root sets
   * up (idmapped binds), else -1; and whether the root, /sys and the binds
   * were made then (premounted), so PID 1 only re-binds the root. */
  int userns;
  int premounted;
  /* Host root's pass (--userns): binds onto /proc or /sys are only cloned, since PID 1 mounts
   * /proc (and /sys in a network namespace of its own) on top later; it attaches them then. */
  int defer_proc_sys;
};

/* mounts.c: resolving and attaching inside the rootfs. */
extern const char *mount_root_name; /* the rootfs path, for messages */
/* Owner of what open_in_root creates; -1 (default): the caller. */
extern uid_t mount_create_uid;
extern gid_t mount_create_gid;
int open_in_root(int rootfd, const char *path, int flags, enum create create);
/* fstype mount (new filesystem) on PATH inside the root. */
int mount_fs(int rootfd, const char *path, const char *type, unsigned long flags, const char *data);
/* Bind SRC (a path outside, or the fd src_fd when src is NULL) onto PATH
 * inside the root, with extra MOUNT_ATTR_* flags applied before it shows. */
int mount_bind(int rootfd, const char *src, int src_fd, const char *path, enum create create,
               unsigned long long attrs, int recursive);
/* The same, idmapped through the user namespace userns (an fd; -1: not). */
int mount_bind_idmapped(int rootfd, const char *src, int src_fd, const char *path, enum create create,
                        unsigned long long attrs, int recursive, int userns);
int mount_user_binds(int rootfd, struct mounts *m);
/* PID 1, after its /proc and /sys: attach the copies mount_user_binds deferred. */
int mount_deferred_binds(int rootfd, struct mounts *m);
int mount_masks(int rootfd, const struct mounts *m);

/* rootfs.c */
int rootfs_mount(const struct mounts *m); /* returns an fd of the new root */
int rootfs_system(int rootfd);            /* /proc, /sys */
int rootfs_sysfs(int rootfd);             /* /sys alone */
int rootfs_pivot(int rootfd, int read_only);

/* dev.c */
int dev_setup(int rootfd, int tty);

#endif
