#define _GNU_SOURCE
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

const char *mount_root_name = "";
uid_t mount_create_uid = (uid_t)-1;
gid_t mount_create_gid = (gid_t)-1;

static int openat2_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {
      .flags = (unsigned long long)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Create the missing leaf of PATH in its (recursively created) parent.
 * mkdirat and mknodat never follow a symlink, and every open resolves in
 * the root, so a planted link cannot lead outside; a dangling link is
 * followed the same way, by creating its target inside the root. */
static int create_in_root(int rootfd, const char *path, enum create create, int depth) {
  char dir[PATH_MAX];
  if (depth > 40) {
    errno = ELOOP;
    return -1;
  }
  if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
    errno = ENAMETOOLONG;
    return -1;
  }
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') dir[--n] = 0;
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : dir;
  if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
    errno = ENOENT;
    return -1;
  }
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - dir) : 0, dir);
  if (!parent[0]) snprintf(parent, sizeof parent, "/");
  int pfd = openat2_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0 && errno == ENOENT && create_in_root(rootfd, parent, CREATE_DIR, depth + 1) == 0)
    pfd = openat2_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) return -1;
  int r = create == CREATE_DIR ? mkdirat(pfd, base, 0755) : mknodat(pfd, base, S_IFREG | 0644, 0);
  /* Made by host root for a container with a user namespace: owned by its root. */
  if (r == 0 && mount_create_uid != (uid_t)-1 && fchownat(pfd, base, mount_create_uid, mount_create_gid, AT_SYMLINK_NOFOLLOW) < 0)
    r = -1;
  if (r < 0 && errno == EEXIST) {
    char link[PATH_MAX], target[PATH_MAX];
    ssize_t len = readlinkat(pfd, base, link, sizeof link - 1);
    if (len > 0) {
      link[len] = 0;
      int t = link[0] == '/' ? snprintf(target, sizeof target, "%s", link)
                             : snprintf(target, sizeof target, "%s/%s", parent, link);
      r = t < (int)sizeof target ? create_in_root(rootfd, target, create, depth + 1) : -1;
    } else {
      r = 0; /* it exists after all (made meanwhile) */
    }
  }
  int e = errno;
  close(pfd);
  errno = e;
  return r < 0 ? -1 : 0;
}

int open_in_root(int rootfd, const char *path, int flags, enum create create) {
  int fd = openat2_in_root(rootfd, path, flags);
  if (fd >= 0 || errno != ENOENT || create == CREATE_NONE) return fd;
  if (create_in_root(rootfd, path, create, 0) < 0) return -1;
  return openat2_in_root(rootfd, path, flags);
}

int mount_fs(int rootfd, const char *path, const char *type, unsigned long flags, const char *data) {
  int fd = open_in_root(rootfd, path, O_PATH | O_DIRECTORY, CREATE_DIR);
  if (fd < 0) return fail("mount %s on %s%s", type, mount_root_name, path);
  /* The magic link names exactly the directory openat2 found. */
  char target[32];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  int r = mount(type, target, type, flags, data);
  if (r < 0) fail("mount %s on %s%s", type, mount_root_name, path);
  close(fd);
  return r;
}

int mount_bind(int rootfd, const char *src, int src_fd, const char *path, enum create create,
               unsigned long long attrs, int recursive) {
  return mount_bind_idmapped(rootfd, src, src_fd, path, create, attrs, recursive, -1);
}

/* A detached copy of SRC (or of src_fd when src is NULL) whose flags are set
 * before it is attached anywhere, so its target is never visible writable,
 * and a recursive read-only really is recursive. PATH is for messages. */
static int bind_clone(const char *src, int src_fd, const char *path, unsigned long long attrs, int recursive, int userns) {
  const char *what = src ? src : path;
  unsigned rec = recursive ? AT_RECURSIVE : 0;
  int tree = src ? open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec)
                 : open_tree(src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
  if (tree < 0) return fail("bind mount %s on %s%s", what, mount_root_name, path);
  struct mount_attr attr = {.attr_set = attrs};
  if (userns >= 0) attr.attr_set |= MOUNT_ATTR_IDMAP, attr.userns_fd = (unsigned long long)userns;
  if (attr.attr_set && mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0) {
    fail("set attributes of bind mount %s on %s%s", what, mount_root_name, path);
    close(tree);
    return -1;
  }
  return tree;
}

/* Attach a detached copy on PATH inside the root; the copy is closed. */
static int bind_attach(int rootfd, int tree, const char *what, const char *path, enum create create) {
  int fd = open_in_root(rootfd, path, O_PATH, create);
  int r = fd < 0 ? -1 : move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  if (r < 0) fail("bind mount %s on %s%s", what, mount_root_name, path);
  if (fd >= 0) close(fd);
  close(tree);
  return r;
}

int mount_bind_idmapped(int rootfd, const char *src, int src_fd, const char *path, enum create create,
                        unsigned long long attrs, int recursive, int userns) {
  int tree = bind_clone(src, src_fd, path, attrs, recursive, userns);
  return tree < 0 ? -1 : bind_attach(rootfd, tree, src ? src : path, path, create);
}

/* PATH is DIR or below it. */
static int under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == 0);
}

int mount_user_binds(int rootfd, struct mounts *m) {
  for (size_t i = 0; i < m->nbinds; i++) {
    struct bind *b = &m->binds[i];
    struct stat st;
    if (stat(b->src, &st) < 0) return fail("bind mount %s on %s%s", b->src, mount_root_name, b->dst);
    unsigned long long attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (b->ro ? MOUNT_ATTR_RDONLY : 0);
    if (b->idmap && m->userns < 0)
      return failx("bind mount %s on %s%s: idmap needs a user namespace", b->src, mount_root_name, b->dst);
    b->create = S_ISDIR(st.st_mode) ? CREATE_DIR : CREATE_FILE;
    int userns = b->idmap ? m->userns : -1;
    if (m->defer_proc_sys && (under(b->dst, "/proc") || under(b->dst, "/sys"))) {
      /* Cloned now, while its source is reachable (and a mount can only be
       * cloned from our own namespace); attached by PID 1. */
      if ((b->tree = bind_clone(b->src, -1, b->dst, attrs, 1, userns)) < 0) return -1;
      continue;
    }
    if (mount_bind_idmapped(rootfd, b->src, -1, b->dst, b->create, attrs, 1, userns) < 0) return -1;
  }
  return 0;
}

int mount_deferred_binds(int rootfd, struct mounts *m) {
  for (size_t i = 0; i < m->nbinds; i++) {
    struct bind *b = &m->binds[i];
    if (b->tree < 0) continue;
    int tree = b->tree;
    b->tree = -1;
    if (bind_attach(rootfd, tree, b->src, b->dst, b->create) < 0) return -1;
  }
  return 0;
}

int mount_masks(int rootfd, const struct mounts *m) {
  for (size_t i = 0; i < m->nmasks; i++) {
    const char *path = m->masks[i];
    int fd = open_in_root(rootfd, path, O_PATH, CREATE_NONE);
    if (fd < 0 && errno == ENOENT) continue;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) return fail("mask %s%s", mount_root_name, path);
    close(fd);
    int r = S_ISDIR(st.st_mode)
                ? mount_fs(rootfd, path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755")
                : mount_bind(rootfd, "/dev/null", -1, path, CREATE_NONE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0);
    if (r < 0) return -1;
  }
  for (size_t i = 0; i < m->nro; i++) {
    const char *path = m->ro_paths[i];
    int fd = open_in_root(rootfd, path, O_PATH, CREATE_NONE);
    if (fd < 0 && errno == ENOENT) continue;
    if (fd < 0) return fail("make %s%s read-only", mount_root_name, path);
    int r = mount_bind(rootfd, NULL, fd, path, CREATE_NONE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, 1);
    close(fd);
    if (r < 0) return -1;
  }
  return 0;
}
