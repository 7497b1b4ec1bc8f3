#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mounts.h"
#include "util.h"

/* overlayfs splits lowerdir on ':' and all options on ',', honouring '\'. */
static int append_escaped(char *buf, size_t cap, size_t *len, const char *s) {
  for (; *s; s++) {
    if (*len + 3 >= cap) return -1;
    if (*s == ',' || *s == ':' || *s == '\\') buf[(*len)++] = '\\';
    buf[(*len)++] = *s;
  }
  buf[*len] = 0;
  return 0;
}

static int append(char *buf, size_t cap, size_t *len, const char *s) {
  size_t n = strlen(s);
  if (*len + n + 1 >= cap) return -1;
  memcpy(buf + *len, s, n + 1);
  *len += n;
  return 0;
}

/* The longest directory all layer paths share. Mounting from there with
 * relative paths keeps host paths out of the container's mountinfo and
 * fits more layers in the one page of options (as Docker's overlay2 does). */
static size_t common_dir(const struct mounts *m) {
  const char *first = m->lower[0];
  size_t best = 0;
  for (size_t i = 1; first[i]; i++) {
    if (first[i] != '/') continue;
    int ok = 1;
    for (size_t k = 1; k < m->nlower && ok; k++) ok = strncmp(m->lower[k], first, i + 1) == 0;
    if (m->upper) ok = ok && strncmp(m->upper, first, i + 1) == 0 && strncmp(m->work, first, i + 1) == 0;
    if (!ok) break;
    best = i;
  }
  return best;
}

static int overlay_options(const struct mounts *m, size_t skip, char *opts, size_t cap) {
  size_t len = 0;
  int bad = append(opts, cap, &len, "lowerdir=");
  for (size_t i = 0; i < m->nlower; i++) {
    if (i) bad |= append(opts, cap, &len, ":");
    bad |= append_escaped(opts, cap, &len, m->lower[i] + skip);
  }
  if (m->upper) {
    bad |= append(opts, cap, &len, ",upperdir=");
    bad |= append_escaped(opts, cap, &len, m->upper + skip);
    bad |= append(opts, cap, &len, ",workdir=");
    bad |= append_escaped(opts, cap, &len, m->work + skip);
  }
  return bad ? -1 : 0;
}

static int mount_overlay(const struct mounts *m) {
  char opts[4096]; /* mount(2) passes at most a page of options */
  size_t common = common_dir(m);
  if (common > 0) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)common, m->lower[0]);
    if (chdir(dir) < 0) return fail("mount overlay on %s: chdir %s", m->rootfs, dir);
  }
  if (overlay_options(m, common ? common + 1 : 0, opts, sizeof opts) < 0)
    return failx("mount overlay on %s: layer paths too long for one page of options", m->rootfs);
  if (mount("overlay", m->rootfs, "overlay", MS_NODEV, opts) < 0) return fail("mount overlay on %s", m->rootfs);
  return 0;
}

/* Premounted (by host root, before the user namespace): the root came here
 * locked inside the mount namespace copied from that phase, and pivot_root
 * refuses a locked mount; a recursive bind onto itself is a new, unlocked
 * mount of the same tree (what stays locked under it, the binds and /sys,
 * is what the container must not undo). Its path may not be reachable by
 * container root (the data root is 0700): the init stage left its cwd on
 * it, which unshare(CLONE_NEWNS) carried into this namespace. */
static int rebind_cwd(const struct mounts *m) {
  int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (here < 0) return fail("open %s", m->rootfs);
  int tree = open_tree(here, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_NODEV};
  if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0 ||
      move_mount(tree, "", here, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    fail("bind mount %s on itself", m->rootfs);
    if (tree >= 0) close(tree);
    tree = -1;
  }
  close(here);
  return tree; /* the attached copy's root: the new root */
}

int rootfs_mount(const struct mounts *m) {
  if (m->premounted) return rebind_cwd(m);
  if (m->nlower > 0) {
    if (mount_overlay(m) < 0) return -1;
  } else {
    /* No layers: the directory itself, made a mount point for pivot_root. */
    int tree = open_tree(AT_FDCWD, m->rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_NODEV};
    if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0 ||
        move_mount(tree, "", AT_FDCWD, m->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      fail("bind mount %s on itself", m->rootfs);
      if (tree >= 0) close(tree);
      return -1;
    }
    close(tree);
  }
  int fd = open(m->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail("open %s", m->rootfs);
  return fd;
}

int rootfs_sysfs(int rootfd) {
  return mount_fs(rootfd, "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

int rootfs_system(int rootfd) {
  if (mount_fs(rootfd, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) return -1;
  return rootfs_sysfs(rootfd);
}

int rootfs_pivot(int rootfd, int read_only) {
  /* pivot_root(".", ".") stacks the old root on the new one; unmounting "."
   * then drops it without needing a scratch directory in the image. */
  if (fchdir(rootfd) < 0) return fail("chdir %s", mount_root_name);
  if (syscall(SYS_pivot_root, ".", ".") < 0) return fail("pivot_root %s", mount_root_name);
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) return fail("make the old root a slave");
  if (umount2(".", MNT_DETACH) < 0) return fail("unmount the old root");
  if (chdir("/") < 0) return fail("chdir /");
  if (read_only) {
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) < 0) return fail("remount / read-only");
  }
  return 0;
}
