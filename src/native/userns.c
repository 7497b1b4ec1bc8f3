#define _GNU_SOURCE
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync.h"
#include "util.h"

/* The host id that ID 0 maps to in /proc/PID/{uid,gid}_map. */
static int map_root(const char *file, unsigned long *out) {
  FILE *f = fopen(file, "re");
  if (!f) return fail("open %s", file);
  unsigned long inside, outside, count;
  int found = 0;
  while (!found && fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3)
    if (inside == 0 && count > 0) *out = outside, found = 1;
  fclose(f);
  return found ? 0 : failx("%s: no mapping for id 0", file);
}

int userns_make(uid_t *root_uid, gid_t *root_gid) {
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) return fail("pipe");
  /* clone with CLONE_NEWUSER (fork-like: no new stack): the child is in
   * the new namespace as soon as it exists, so no handshake is needed
   * before its maps can be written. It only waits for our end to close. */
  pid_t h = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (h < 0) {
    fail("clone a user namespace");
    close(hold[0]), close(hold[1]);
    return -1;
  }
  if (h == 0) {
    char c;
    close(hold[1]);
    while (read(hold[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(hold[0]);
  int fd = -1;
  if (sync_idmap(h) == 0) {
    char path[48];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)h);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open %s", path);
    unsigned long u = 0, g = 0;
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)h);
    int r = fd < 0 ? -1 : map_root(path, &u);
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)h);
    if (r == 0) r = map_root(path, &g);
    if (r < 0 && fd >= 0) close(fd), fd = -1;
    *root_uid = (uid_t)u, *root_gid = (gid_t)g;
  }
  int e = errno;
  close(hold[1]);
  while (waitpid(h, NULL, 0) < 0 && errno == EINTR) {}
  errno = e;
  return fd;
}

int userns_of_netns(uid_t *root_uid, gid_t *root_gid) {
  int net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (net < 0) return fail("open /proc/self/ns/net");
  int u = ioctl(net, NS_GET_USERNS);
  close(net);
  if (u < 0) return fail("the user namespace of our network namespace (NS_GET_USERNS)");
  fcntl(u, F_SETFD, FD_CLOEXEC);
  struct stat a, b;
  if (fstat(u, &a) < 0 || stat("/proc/self/ns/user", &b) < 0) {
    close(u);
    return fail("stat /proc/self/ns/user");
  }
  if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
    close(u);
    return -2; /* ours: the host's */
  }
  /* Its maps are read from a process in it: a child joins and waits. */
  int in[2], hold[2];
  if (pipe2(in, O_CLOEXEC) < 0) return close(u), fail("pipe");
  if (pipe2(hold, O_CLOEXEC) < 0) return close(u), close(in[0]), close(in[1]), fail("pipe");
  pid_t c = fork();
  if (c < 0) return close(u), fail("fork");
  if (c == 0) {
    char b1 = setns(u, CLONE_NEWUSER) == 0 ? 'y' : 'n';
    close(hold[1]);
    if (write(in[1], &b1, 1) < 0) _exit(1);
    while (read(hold[0], &b1, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(in[1]), close(hold[0]);
  char ok = 0;
  int r = read(in[0], &ok, 1) == 1 && ok == 'y' ? 0 : failx("join the user namespace of our network namespace");
  unsigned long uid = 0, gid = 0;
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)c);
  if (r == 0) r = map_root(path, &uid);
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)c);
  if (r == 0) r = map_root(path, &gid);
  int e = errno;
  close(in[0]), close(hold[1]);
  while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {}
  errno = e;
  if (r < 0) return close(u), -1;
  *root_uid = (uid_t)uid, *root_gid = (gid_t)gid;
  return u;
}

int userns_idmap_over(const char *path, int userns) {
  int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return fail("idmapped mount of %s: open_tree", path);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns};
  int r = mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
  if (r < 0) fail("idmapped mount of %s: mount_setattr", path);
  else if ((r = move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH)) < 0)
    fail("idmapped mount of %s: move_mount", path);
  close(tree);
  return r;
}

int userns_enter(int userns) {
  if (setns(userns, CLONE_NEWUSER) < 0) return fail("setns into the container's user namespace");
  /* Host root is unmapped in there; become the namespace's root. */
  if (setresgid(0, 0, 0) < 0) return fail("setresgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0) return fail("setresuid 0 in the user namespace");
  if (setgroups(0, NULL) < 0) return fail("setgroups in the user namespace");
  return 0;
}

int userns_netns_sysctls(void) {
  /* The monitor (our parent: C1 exec'd nsenter, then us) stays in the
   * host's network namespace. */
  struct stat self, host;
  char parent[48];
  snprintf(parent, sizeof parent, "/proc/%d/ns/net", (int)getppid());
  if (stat("/proc/self/ns/net", &self) < 0) return fail("stat /proc/self/ns/net");
  if (stat(parent, &host) < 0) return fail("stat %s", parent);
  if (self.st_ino == host.st_ino && self.st_dev == host.st_dev) return 0;
  if (write_file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0") < 0) return -1;
  if (write_file("/proc/sys/net/ipv4/ping_group_range", "0 2147483647") < 0) return -1;
  return 0;
}
