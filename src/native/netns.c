/* `corral-shim netns --uid-map MAP --gid-map MAP FILE -- PROGRAM ARGS`: a
 * network namespace that belongs to a new user namespace with those maps
 * (the container's), kept alive by a bind mount on FILE (which must exist),
 * then PROGRAM run in it as host root (corrald's `ip -batch -`: host root
 * can still make the veth's host end in corrald's namespace). Container root
 * then holds its capabilities (NET_RAW for ping, NET_BIND_SERVICE) in its
 * network namespace, as with a namespace made inside the container. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"

static int usage(const char *why) {
  fprintf(stderr, "corral-shim netns: %s\nusage: corral-shim netns --uid-map MAP --gid-map MAP FILE -- PROGRAM ARGS...\n", why);
  return 2;
}

static int die(void) {
  fprintf(stderr, "corral-shim netns: %s\n", errmsg());
  return 1;
}

int netns_main(int argc, char **argv) {
  const char *uid_map = NULL, *gid_map = NULL, *file = NULL;
  int i;
  for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--uid-map") == 0 && i + 1 < argc) uid_map = argv[++i];
    else if (strcmp(argv[i], "--gid-map") == 0 && i + 1 < argc) gid_map = argv[++i];
    else if (argv[i][0] != '-' && !file) file = argv[i];
    else return usage("bad option");
  }
  if (!uid_map || !gid_map || !file) return usage("--uid-map, --gid-map and FILE are required");
  if (i + 1 >= argc) return usage("no program after --");
  char **prog = argv + i + 1;

  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) return fail("pipe"), die();
  /* fork-like clone: the child exists in both new namespaces at once and
   * only waits for our end of the pipe to close. */
  pid_t c = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, NULL);
  if (c < 0) return fail("clone a user and network namespace"), die();
  if (c == 0) {
    char b;
    close(hold[1]);
    while (read(hold[0], &b, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(hold[0]);
  char ns[48];
  snprintf(ns, sizeof ns, "/proc/%d/ns/net", (int)c);
  int fd = -1, bound = 0, rc = 0;
  if (proto_idmap_write(c, uid_map, gid_map) < 0) rc = -1;
  else if ((fd = open(ns, O_RDONLY | O_CLOEXEC)) < 0) rc = fail("open %s", ns);
  else if (mount(ns, file, NULL, MS_BIND, NULL) < 0) rc = fail("bind mount %s on %s", ns, file);
  else bound = 1;
  close(hold[1]);
  while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {}
  /* Only the network namespace: we stay host root in the host's user namespace. */
  if (rc == 0 && setns(fd, CLONE_NEWNET) < 0) rc = fail("setns %s", file);
  if (rc == 0) {
    execvp(prog[0], prog);
    fail("exec %s", prog[0]);
  }
  if (bound) umount2(file, MNT_DETACH);
  return die();
}
