/* `corral-shim hold [--uid-map MAP --gid-map MAP] --rootfs DIR --lower L...
 * [--upper U --work W] [--bind SRC DST MODE]...`: a stopped container's root
 * filesystem, mounted as its start mounts it (the layers idmapped through a
 * user namespace with the container's maps, the overlay, its binds), in a
 * mount namespace of this process alone. Prints `ready` on stdout and keeps
 * the mounts until stdin ends; corrald reaches them through
 * /proc/PID/root/DIR (`corral cp` of a container that is not running). The
 * namespace dies with the process, so nothing stays mounted on the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mounts.h"
#include "proto.h"
#include "userns.h"
#include "util.h"

static int usage(const char *why) {
  fprintf(stderr,
          "corral-shim hold: %s\nusage: corral-shim hold [--uid-map MAP --gid-map MAP] --rootfs DIR --lower L... "
          "[--upper U --work W] [--bind SRC DST rw|ro[,idmap]]...\n",
          why);
  return 2;
}

static int die(void) {
  fprintf(stderr, "corral-shim hold: %s\n", errmsg());
  return 1;
}

/* A user namespace with these maps, held by an fd; root's host ids from the map text "0 BASE SIZE". */
static int make_userns(const char *uid_map, const char *gid_map) {
  unsigned long ub, gb, n;
  if (sscanf(uid_map, "0 %lu %lu", &ub, &n) != 2 || sscanf(gid_map, "0 %lu %lu", &gb, &n) != 2)
    return failx("--uid-map %s --gid-map %s: expected \"0 BASE SIZE\"", uid_map, gid_map);
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) return fail("pipe");
  pid_t c = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (c < 0) return close(hold[0]), close(hold[1]), fail("clone a user namespace");
  if (c == 0) {
    char b;
    close(hold[1]);
    while (read(hold[0], &b, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(hold[0]);
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)c);
  int fd = -1;
  if (proto_idmap_write(c, uid_map, gid_map) == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) fail("open %s", path);
  int e = errno;
  close(hold[1]);
  while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {}
  errno = e;
  mount_create_uid = (uid_t)ub, mount_create_gid = (gid_t)gb;
  return fd;
}

int hold_main(int argc, char **argv) {
  static struct mounts m;
  const char *uid_map = NULL, *gid_map = NULL;
  m.lower = calloc((size_t)argc, sizeof *m.lower);
  m.binds = calloc((size_t)argc, sizeof *m.binds);
  if (!m.lower || !m.binds) return failx("out of memory"), die();
  for (int i = 2; i < argc; i++) {
    const char *opt = argv[i];
    int need = strcmp(opt, "--bind") == 0 ? 3 : 1;
    if (i + need >= argc) return usage("an option lacks its value");
    const char *v = argv[i + 1];
    if (strcmp(opt, "--uid-map") == 0) uid_map = v;
    else if (strcmp(opt, "--gid-map") == 0) gid_map = v;
    else if (strcmp(opt, "--rootfs") == 0) m.rootfs = v;
    else if (strcmp(opt, "--lower") == 0) m.lower[m.nlower++] = v;
    else if (strcmp(opt, "--upper") == 0) m.upper = v;
    else if (strcmp(opt, "--work") == 0) m.work = v;
    else if (need == 3) {
      const char *mode = argv[i + 3];
      int idmap = strcmp(mode, "rw,idmap") == 0 || strcmp(mode, "ro,idmap") == 0;
      if (strcmp(mode, "rw") != 0 && strcmp(mode, "ro") != 0 && !idmap) return usage("--bind mode must be rw or ro[,idmap]");
      if (v[0] != '/') return usage("--bind source not absolute");
      m.binds[m.nbinds++] = (struct bind){.src = v, .dst = argv[i + 2], .ro = mode[1] == 'o', .idmap = idmap, .tree = -1};
    } else return usage("unknown option");
    i += need;
  }
  if (!m.rootfs || m.rootfs[0] != '/' || !m.nlower) return usage("--rootfs (absolute) and --lower are required");
  if ((!m.upper) != (!m.work)) return usage("--upper and --work go together");
  if ((!uid_map) != (!gid_map)) return usage("--uid-map and --gid-map go together");
  mount_root_name = m.rootfs;
  m.userns = -1;

  int userns = uid_map ? make_userns(uid_map, gid_map) : -1;
  if (uid_map && userns < 0) return die();
  if (unshare(CLONE_NEWNS) < 0) return fail("unshare a mount namespace"), die();
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return fail("make / private"), die();
  for (size_t i = 0; i < m.nlower && userns >= 0; i++)
    if (userns_idmap_over(m.lower[i], userns) < 0) return die();
  int rootfd = rootfs_mount(&m);
  if (rootfd < 0) return die();
  m.userns = userns;
  if (mount_user_binds(rootfd, &m) < 0) return die();
  if (chdir("/") < 0) return fail("chdir /"), die();
  printf("ready\n");
  if (fflush(stdout) != 0) return fail("write ready"), die();
  char buf[64];
  errno = 0;
  while (read(0, buf, sizeof buf) > 0 || errno == EINTR) errno = 0;
  return 0;
}
