#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "boot.h"
#include "monitor.h"
#include "proto.h"
#include "sync.h"

/* C1 cannot use sync_die (its sync socket is not fd 3 yet in every step). */
__attribute__((noreturn)) static void child_fail(int syncw) {
  proto_send_text(syncw, PROTO_ERROR, errmsg());
  _exit(1);
}

static int high(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 10); }

/* C1: join the cgroups first, so nothing of the container ever runs
 * outside them; then stdio, the sync socket as fd 3 (dup2 clears its
 * O_CLOEXEC: it must survive unshare's exec up to the init stage), nothing
 * else; exec. */
__attribute__((noreturn)) static void child_exec(int in, int out, int err, int syncw) {
  char pid[16];
  int pl = snprintf(pid, sizeof pid, "%d", (int)getpid());
  for (size_t i = 0; i < M.o.ncgroup; i++) {
    int fd = open(M.o.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, pid, (size_t)pl) < 0) {
      fail("write %s to %s", pid, M.o.cgroup_procs[i]);
      child_fail(syncw);
    }
    close(fd);
  }
  /* Via high copies, so no dup2 below overwrites a source still needed. */
  int fds[4] = {high(in), high(out), high(err), high(syncw)};
  for (int i = 0; i < 4; i++) {
    if (fds[i] < 0 || dup2(fds[i], i) < 0) {
      fail("set up fd %d", i);
      child_fail(syncw);
    }
  }
  if (close_range(4, ~0U, 0) < 0) {
    for (int fd = 4; fd < 1024; fd++) close(fd);
  }
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL); /* ignored ones would survive exec */
  execvp(M.o.argv[0], M.o.argv);
  fail("exec %s", M.o.argv[0]);
  child_fail(SYNC_FD);
}

static int nonblock(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* The ptmx of the devpts mounted in ROOT (an exec session passes the
 * container's /proc/PID/root), resolved inside it: the pty then belongs to
 * the container, where `tty` can name it. */
static int open_ptmx(const char *root) {
  if (!root) return posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  struct open_how how = {.flags = O_RDWR | O_NOCTTY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int m = (int)syscall(SYS_openat2, dir, "/dev/pts/ptmx", &how, sizeof how);
  int e = errno;
  close(dir);
  errno = e;
  return m;
}

static int open_pty(int *slave) {
  int m = open_ptmx(M.o.pty_root);
  if (m < 0) return fail("open %s/dev/%s", M.o.pty_root ? M.o.pty_root : "", M.o.pty_root ? "pts/ptmx" : "ptmx");
  int unlock = 0;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
    fail("unlock pty");
    close(m);
    return -1;
  }
  /* TIOCGPTPEER opens the slave from the master, no path lookup. */
  *slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0) {
    fail("open pty slave");
    close(m);
    return -1;
  }
  return m;
}

int child_spawn(void) {
  int sync[2], in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  /* Seqpacket: message boundaries for the shim protocol, both ways, and fds. */
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) return fail("socketpair");
  if (M.o.tty) {
    int slave = -1;
    int m = open_pty(&slave);
    if (m < 0) return -1;
    /* The container's own console (an exec's pty is already its devpts'). */
    if (!M.o.pty_root && boot_console_own(slave, M.uid_map, M.gid_map) < 0) return -1;
    if (!M.o.pty_root) boot_console_hold(slave);
    M.master = m;
    in[0] = out[1] = err[1] = slave;
    M.out_fd = fcntl(m, F_DUPFD_CLOEXEC, 3);
    if (M.o.stdin_open) M.in_fd = fcntl(m, F_DUPFD_CLOEXEC, 3);
  } else {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) return fail("pipe");
    if (M.o.stdin_open) {
      if (pipe2(in, O_CLOEXEC) < 0) return fail("pipe");
    } else if ((in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
      return fail("open /dev/null");
    }
    M.out_fd = out[0];
    M.err_fd = err[0];
    M.in_fd = in[1];
  }

  pid_t pid = fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) child_exec(in[0], out[1], err[1], sync[1]);
  M.c1 = pid;
  M.spawned = 1;

  close(sync[1]);
  close(in[0]);
  if (out[1] != in[0]) close(out[1]);
  if (err[1] != in[0] && err[1] != out[1]) close(err[1]);
  M.sync_fd = sync[0];
  nonblock(M.sync_fd);
  nonblock(M.out_fd);
  if (M.err_fd >= 0) nonblock(M.err_fd);
  if (M.in_fd >= 0) nonblock(M.in_fd);
  return 0;
}
