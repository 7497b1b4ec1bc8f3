/* The OCI init and exec stages (docs/oci.md): C1 joins the namespaces the
 * bundle names by path, makes a user namespace (its maps written by the
 * helper) and unshares the rest, forks the container process C2 and exits.
 * C2 builds the root from the bundle's mounts and devices, pivots, reports
 * READY and blocks opening the exec fifo until `corral-oci start` opens it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mounts.h"
#include "net.h"
#include "oci.h"
#include "proto.h"
#include "sync.h"
#include "userns.h"
#include "util.h"

static void step(int r) {
  if (r < 0) sync_die(1);
}

static int open_parent(int rootfd, const char *path, const char **base) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  *base = slash + 1;
  snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
  return open_in_root(rootfd, dir, O_PATH | O_DIRECTORY, CREATE_DIR);
}

/* A mount that is not a bind: a new filesystem of TYPE from SRC. */
static int mount_new(int rootfd, const struct oci_op *op) {
  int fd = open_in_root(rootfd, op->dst, O_PATH | O_DIRECTORY, CREATE_DIR);
  if (fd < 0) return fail("mount %s on %s%s", op->type, mount_root_name, op->dst);
  char target[32];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  int r = mount(op->src, target, op->type, op->flags, op->data[0] ? op->data : NULL);
  /* sysfs belongs to the network namespace's user namespace: without
   * ownership of it (a user namespace joining a host network), bind the
   * host's instead, as runc does. */
  if (r < 0 && (errno == EPERM || errno == EBUSY || errno == EINVAL) && strcmp(op->type, "sysfs") == 0) {
    /* Only read-only is added: the host mount's own flags are locked in a user namespace. */
    struct mount_attr attr = {.attr_set = op->flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0};
    int tree = open_tree(AT_FDCWD, "/sys", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    r = tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0 ||
                move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
            ? -1
            : 0;
    if (tree >= 0) close(tree);
  }
  if (r < 0) fail("mount %s on %s%s", op->type, mount_root_name, op->dst);
  else if (op->propagation && mount(NULL, target, NULL, op->propagation, NULL) < 0)
    r = fail("set propagation of %s%s", mount_root_name, op->dst);
  close(fd);
  return r;
}

static unsigned long long attrs_of(unsigned long flags) {
  unsigned long long a = 0;
  if (flags & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NOATIME) a |= MOUNT_ATTR_NOATIME;
  if (flags & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (flags & MS_STRICTATIME) a |= MOUNT_ATTR_STRICTATIME;
  return a;
}

static int mount_op(int rootfd, const struct oci_op *op) {
  if (!(op->flags & MS_BIND)) return mount_new(rootfd, op);
  struct stat st;
  if (stat(op->src, &st) < 0) return fail("bind mount %s on %s%s", op->src, mount_root_name, op->dst);
  if (mount_bind(rootfd, op->src, -1, op->dst, S_ISDIR(st.st_mode) ? CREATE_DIR : CREATE_FILE, attrs_of(op->flags),
                 (op->flags & MS_REC) != 0) < 0)
    return -1;
  if (!op->propagation) return 0;
  int fd = open_in_root(rootfd, op->dst, O_PATH, CREATE_NONE);
  char target[32];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  int r = fd < 0 || mount(NULL, target, NULL, op->propagation, NULL) < 0 ? fail("set propagation of %s%s", mount_root_name, op->dst) : 0;
  if (fd >= 0) close(fd);
  return r;
}

static int remount_ro(int rootfd, const struct oci_op *op) {
  int fd = open_in_root(rootfd, op->dst, O_PATH, CREATE_NONE);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  int r = fd < 0 || mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0
              ? fail("remount %s%s read-only", mount_root_name, op->dst)
              : 0;
  if (fd >= 0) close(fd);
  return r;
}

/* mknod as host root; in a user namespace (EPERM) a bind of the host's node. */
static int device(int rootfd, const struct oci_op *op) {
  const char *base;
  int dir = open_parent(rootfd, op->dst, &base);
  if (dir < 0) return fail("create device %s%s", mount_root_name, op->dst);
  mode_t type = op->devtype == 'b' ? S_IFBLK : op->devtype == 'p' ? S_IFIFO : S_IFCHR;
  unlinkat(dir, base, 0); /* the image's own node, if any, is replaced */
  int r = mknodat(dir, base, type | (mode_t)op->mode, makedev(op->major, op->minor));
  if (r == 0) {
    if (fchownat(dir, base, (uid_t)op->uid, (gid_t)op->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        fchmodat(dir, base, (mode_t)op->mode, 0) < 0)
      r = fail("set owner and mode of device %s%s", mount_root_name, op->dst);
  } else if (errno == EPERM) {
    close(dir);
    return mount_bind(rootfd, op->dst, -1, op->dst, CREATE_FILE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0);
  } else {
    r = fail("mknod %s%s", mount_root_name, op->dst);
  }
  close(dir);
  return r;
}

static int symlink_op(int rootfd, const struct oci_op *op) {
  const char *base;
  int dir = open_parent(rootfd, op->dst, &base);
  if (dir < 0) return fail("symlink %s%s", mount_root_name, op->dst);
  int r = symlinkat(op->src, dir, base) < 0 && errno != EEXIST ? fail("symlink %s%s", mount_root_name, op->dst) : 0;
  close(dir);
  return r;
}

static int sysctls(int rootfd, const struct oci_opts *o) {
  for (size_t i = 0; i + 1 < o->nsysctl; i += 2) {
    char path[512];
    snprintf(path, sizeof path, "/proc/sys/%s", o->sysctl[i]);
    for (char *c = path + 10; *c; c++)
      if (*c == '.') *c = '/';
    int fd = open_in_root(rootfd, path, O_WRONLY | O_TRUNC, CREATE_NONE);
    if (fd < 0) return fail("sysctl %s: open %s", o->sysctl[i], path);
    int r = write_all(fd, o->sysctl[i + 1], strlen(o->sysctl[i + 1]));
    if (r < 0) fail("sysctl %s=%s", o->sysctl[i], o->sysctl[i + 1]);
    close(fd);
    if (r < 0) return -1;
  }
  return 0;
}

/* The root: the bundle's directory bound on itself (pivot_root wants a mount). */
static int root_mount(const struct oci_opts *o) {
  int tree = open_tree(AT_FDCWD, o->rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0 || move_mount(tree, "", AT_FDCWD, o->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    fail("bind mount %s on itself", o->rootfs);
    if (tree >= 0) close(tree);
    return -1;
  }
  close(tree);
  int fd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? fail("open %s", o->rootfs) : fd;
}

__attribute__((noreturn)) static void container(struct oci_opts *o) {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) step(fail("set non-dumpable"));
  if (o->unshare & CLONE_NEWNS) {
    unsigned long prop = o->root_propagation ? o->root_propagation : MS_REC | MS_PRIVATE;
    if (mount(NULL, "/", NULL, prop, NULL) < 0) step(fail("set the propagation of /"));
  }
  int rootfd = root_mount(o);
  step(rootfd);
  for (size_t i = 0; i < o->nops; i++) {
    const struct oci_op *op = &o->ops[i];
    switch (op->kind) {
    case OP_MOUNT: step(mount_op(rootfd, op)); break;
    case OP_REMOUNT_RO: step(remount_ro(rootfd, op)); break;
    case OP_DEVICE: step(device(rootfd, op)); break;
    case OP_SYMLINK: step(symlink_op(rootfd, op)); break;
    }
  }
  step(sysctls(rootfd, o));
  step(mount_masks(rootfd, &o->m));
  step(rootfs_pivot(rootfd, o->readonly_root));
  close(rootfd);
  if (o->unshare & CLONE_NEWNS) {
    /* Shared root propagation is the bundle's to ask for; private by default. */
    if (o->root_propagation && mount(NULL, "/", NULL, o->root_propagation, NULL) < 0)
      step(fail("set the propagation of / to %lu", o->root_propagation));
  }
  if (o->hostname && sethostname(o->hostname, strlen(o->hostname)) < 0) step(fail("sethostname %s", o->hostname));
  if (o->domainname && setdomainname(o->domainname, strlen(o->domainname)) < 0) step(fail("setdomainname %s", o->domainname));
  if (o->unshare & CLONE_NEWNET) step(loopback_up());
  if (o->p.console >= 0) step(oci_console(&o->p, 1));

  /* Created: tell the helper, then wait for `start` to open the fifo. Errors
   * from here on go to stderr (the caller's log): the helper is gone. */
  if (proto_send(SYNC_FD, PROTO_READY, NULL, 0, -1) < 0) sync_die(1);
  sync_close();
  /* Reopened through our O_PATH fd of it (opened by the helper as host
   * root): the fifo is owned by the container's root, its directory is not
   * reachable from here. */
  char fifo_path[32];
  snprintf(fifo_path, sizeof fifo_path, "/proc/self/fd/%d", o->exec_fifo_fd);
  int fifo = open(fifo_path, O_WRONLY | O_CLOEXEC);
  if (fifo < 0) step(fail("open exec fifo %s (through %s; is /proc mounted?)", o->exec_fifo, fifo_path));
  if (write_all(fifo, "0", 1) < 0) step(fail("write exec fifo %s", o->exec_fifo));
  close(fifo);
  close(o->exec_fifo_fd);
  oci_process_run(&o->p);
}

/* Open every path before joining any: after the first setns, /proc and the
 * paths may be another namespace's. User first: the rest may belong to it. */
static void join(struct oci_opts *o) {
  int fds[8];
  for (int i = 0; i < o->njoin; i++) {
    fds[i] = open(o->join_path[i], O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) step(fail("open namespace %s", o->join_path[i]));
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < o->njoin; i++) {
      int user = o->join_type[i] == CLONE_NEWUSER;
      if (user != (pass == 0)) continue;
      if (user) step(userns_enter(fds[i]));
      else if (setns(fds[i], o->join_type[i]) < 0) step(fail("setns %s", o->join_path[i]));
      close(fds[i]);
    }
  }
}

void oci_stage_create(struct oci_opts *o) {
  join(o);
  int flags = o->unshare;
  if (flags & CLONE_NEWUSER) {
    uid_t u;
    gid_t g;
    int userns = userns_make(&u, &g);
    step(userns);
    step(userns_enter(userns));
    close(userns);
    flags &= ~CLONE_NEWUSER;
  }
  if (flags && unshare(flags) < 0) step(fail("unshare the container's namespaces"));
  pid_t pid = fork();
  if (pid < 0) step(fail("fork"));
  if (pid == 0) container(o);
  if (sync_pid(pid) < 0) {
    kill(pid, SIGKILL);
    sync_die(1);
  }
  _exit(0);
}

/* Same order as the exec stage of docs/shim.md: net first (a joined network
 * namespace may be the host user namespace's), user, the rest, mnt last. */
static const struct {
  const char *name;
  int type;
} exec_ns[] = {
    {"net", CLONE_NEWNET}, {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},    {"uts", CLONE_NEWUTS},
    {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};

void oci_stage_exec(struct oci_opts *o) {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) step(fail("set non-dumpable"));
  char path[32];
  snprintf(path, sizeof path, "/proc/%lu", o->pid);
  int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) step(fail("open %s", path));
  unsigned long long actual;
  if (starttime_at(dir, &actual) < 0) step(fail("read %s/stat", path));
  if (actual != o->pid_start) step(failx("exec: pid %lu started at %llu, not %llu: not the container", o->pid, actual, o->pid_start));
  int fds[7];
  for (size_t i = 0; i < 7; i++) {
    char ns[16];
    snprintf(ns, sizeof ns, "ns/%s", exec_ns[i].name);
    fds[i] = openat(dir, ns, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) step(fail("open %s/%s", path, ns));
  }
  close(dir);
  for (size_t i = 0; i < 7; i++) {
    char self[32];
    struct stat a, b;
    snprintf(self, sizeof self, "/proc/self/ns/%s", exec_ns[i].name);
    /* Shared with us (the host's): setns into one's own user namespace fails. */
    if (fstat(fds[i], &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
      close(fds[i]);
      continue;
    }
    if (exec_ns[i].type == CLONE_NEWUSER) step(userns_enter(fds[i]));
    else if (setns(fds[i], exec_ns[i].type) < 0) step(fail("setns %s/ns/%s", path, exec_ns[i].name));
    close(fds[i]);
  }
  pid_t child = fork();
  if (child < 0) step(fail("fork"));
  if (child == 0) {
    if (o->p.console >= 0) step(oci_console(&o->p, 0));
    /* Reported before exec: the helper's end closes at the exec. */
    oci_process_run(&o->p);
  }
  if (sync_pid(child) < 0) {
    kill(child, SIGKILL);
    sync_die(1);
  }
  _exit(0);
}
