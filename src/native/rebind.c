/* corral-shim rebind --pid PID --pid-start T --bind SRC DST [--bind SRC DST ...]
 *
 * A bind of a FUSE file keeps the connection it was made on: once lxcfs dies,
 * every container's bound /proc files fail with ENOTCONN, and a new lxcfs at
 * the same host path does not help them. This role detaches the stale mount
 * at each DST inside the container's mount namespace and binds the new SRC
 * there, so running containers recover without a restart.
 *
 * The sources are cloned (open_tree) while still in the host's namespace,
 * since a mount can only be cloned from the caller's own namespace; the
 * detached copies are then attached after setns into the container's. */
#define _GNU_SOURCE
#include "rebind.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mounts.h"
#include "util.h"

static int rebind(int argc, char **argv) {
  unsigned long pid = 0, start = 0;
  int have_pid = 0, have_start = 0;
  struct bind *binds = calloc((size_t)argc, sizeof *binds);
  size_t n = 0;
  if (!binds) return failx("out of memory");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return fail("set non-dumpable");
  for (int i = 2; i < argc; i++) {
    const char *opt = argv[i];
    int need = strcmp(opt, "--bind") == 0 ? 2 : 1;
    if (i + need >= argc) return failx("option %s needs %d value(s)", opt, need);
    const char *v = argv[i + 1];
    if (strcmp(opt, "--pid") == 0) {
      if (parse_ulong(v, 0x3fffffff, &pid) < 0 || pid == 0) return failx("bad --pid %s", v);
      have_pid = 1;
    } else if (strcmp(opt, "--pid-start") == 0) {
      if (parse_ulong(v, (unsigned long)-1, &start) < 0) return failx("bad --pid-start %s", v);
      have_start = 1;
    } else if (need == 2) {
      if (v[0] != '/' || argv[i + 2][0] != '/') return failx("--bind %s %s: paths must be absolute", v, argv[i + 2]);
      binds[n++] = (struct bind){.src = v, .dst = argv[i + 2], .ro = 1, .tree = -1};
    } else {
      return failx("unknown option %s", opt);
    }
    i += need;
  }
  if (!have_pid || !have_start || n == 0) return failx("--pid, --pid-start and at least one --bind are required");

  /* As the exec stage: one /proc/PID fd, so a reused pid fails instead of
   * naming another process's namespace. */
  char path[32];
  snprintf(path, sizeof path, "/proc/%lu", pid);
  int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return fail("open %s", path);
  unsigned long long actual;
  if (starttime_at(dir, &actual) < 0) return fail("read %s/stat", path);
  if (actual != start) return failx("pid %lu started at %llu, not %llu: not the container", pid, actual, (unsigned long long)start);
  int mntns = openat(dir, "ns/mnt", O_RDONLY | O_CLOEXEC);
  if (mntns < 0) return fail("open %s/ns/mnt", path);
  if (starttime_at(dir, &actual) < 0 || actual != start) return failx("pid %lu exited", pid);
  close(dir);

  int *trees = calloc(n, sizeof *trees);
  if (!trees) return failx("out of memory");
  for (size_t i = 0; i < n; i++) {
    trees[i] = open_tree(AT_FDCWD, binds[i].src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY};
    if (trees[i] < 0 || mount_setattr(trees[i], "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
      return fail("clone %s", binds[i].src);
  }
  if (setns(mntns, CLONE_NEWNS) < 0) return fail("setns %s/ns/mnt", path);
  close(mntns);

  /* Now "/" is the container's root: every path below resolves in it. */
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail("open the container's root");
  mount_root_name = "";
  for (size_t i = 0; i < n; i++) {
    const char *dst = binds[i].dst;
    /* The stale mount goes first: stacking would keep the dead connection
     * referenced beneath. Not a mount point (EINVAL): nothing to replace. */
    if (umount2(dst, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
      return fail("unmount the stale bind on %s", dst);
    int fd = open_in_root(rootfd, dst, O_PATH | O_NOFOLLOW, CREATE_NONE);
    if (fd < 0 || move_mount(trees[i], "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return fail("bind mount %s on %s", binds[i].src, dst);
    close(fd);
    close(trees[i]);
  }
  return 0;
}

int rebind_main(int argc, char **argv) {
  if (rebind(argc, argv) == 0) return 0;
  fprintf(stderr, "corral-shim rebind: %s\n", errmsg());
  return 1;
}
