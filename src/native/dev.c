#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mounts.h"
#include "util.h"

static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};

static const struct {
  const char *name, *target;
} links[] = {
    {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},         {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
};

/* The pty slave C2 holds as fd 0, by its path in the (copied) host /dev/pts:
 * a bind must name a mount of our own namespace, which the fd's is not. */
static int console(int rootfd) {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/fd/0", path, sizeof path - 1);
  if (n < 0) return fail("readlink /proc/self/fd/0");
  path[n] = 0;
  struct stat a, b;
  if (fstat(0, &a) < 0 || stat(path, &b) < 0 || !S_ISCHR(a.st_mode) || a.st_rdev != b.st_rdev)
    return failx("bind mount the tty on %s/dev/console: fd 0 is not a reachable tty (%s)", mount_root_name, path);
  return mount_bind(rootfd, path, -1, "/dev/console", CREATE_FILE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0);
}

const char *dev_shm_size = NULL;

int dev_setup(int rootfd, int tty) {
  const unsigned long fsflags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount_fs(rootfd, "/dev", "tmpfs", fsflags, "mode=755,size=64k") < 0) return -1;

  /* nodev on the tmpfs, yet these work: each is a bind of the host's node,
   * and a bind keeps the flags of devtmpfs's mount. */
  for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
    char path[32];
    snprintf(path, sizeof path, "/dev/%s", devices[i]);
    if (mount_bind(rootfd, path, -1, path, CREATE_FILE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0) < 0) return -1;
  }
  if (mount_fs(rootfd, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
    return -1;
  char shm[64];
  snprintf(shm, sizeof shm, "mode=1777,size=%s", dev_shm_size ? dev_shm_size : "64m");
  if (mount_fs(rootfd, "/dev/shm", "tmpfs", fsflags, shm) < 0) return -1;
  if (mount_fs(rootfd, "/dev/mqueue", "mqueue", fsflags, NULL) < 0) return -1;

  int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, CREATE_NONE);
  if (dev < 0) return fail("open %s/dev", mount_root_name);
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    if (symlinkat(links[i].target, dev, links[i].name) < 0) {
      fail("symlink %s/dev/%s", mount_root_name, links[i].name);
      close(dev);
      return -1;
    }
  }
  close(dev);
  return tty ? console(rootfd) : 0;
}
