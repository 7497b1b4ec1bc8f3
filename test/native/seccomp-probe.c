/* What an attacker with container root tries: one syscall per line, each in a
 * child of its own (so one that succeeds, like unshare, changes nothing for
 * the next), printed as "NAME ERRNO" (0: it succeeded). Built static by
 * test/integration/seccomp.test.ts and bound into a container. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_PROCESS_KEYRING -2
#define KEY_SPEC_SESSION_KEYRING -3

static long result(long rc) { return rc < 0 ? errno : 0; }

static long t_keyctl(void) { return result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)); }
static long t_add_key(void) { return result(syscall(SYS_add_key, "user", "corral-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING)); }
static long t_request_key(void) {
  long rc = syscall(SYS_request_key, "user", "corral-probe-none", NULL, 0);
  return rc < 0 && errno == ENOKEY ? 0 : result(rc); /* allowed, and no such key */
}
static long t_unshare_user(void) { return result(unshare(CLONE_NEWUSER)); }
static long t_unshare_mount(void) { return result(unshare(CLONE_NEWNS)); }
static long t_clone_newuser(void) {
  long rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (rc == 0) _exit(0);
  if (rc > 0) waitpid((pid_t)rc, NULL, 0);
  return result(rc);
}
static long t_clone3(void) {
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.exit_signal = SIGCHLD;
  long rc = syscall(SYS_clone3, &a, sizeof a);
  if (rc == 0) _exit(0);
  if (rc > 0) waitpid((pid_t)rc, NULL, 0);
  return result(rc);
}
static long t_io_uring_setup(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  return result(syscall(SYS_io_uring_setup, 1, &p));
}
static long t_userfaultfd(void) { return result(syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY)); }
static long t_perf_event_open(void) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_TASK_CLOCK;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  return result(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
}
static long t_getpid(void) { return result(syscall(SYS_getpid)); }

static const struct {
  const char *name;
  long (*fn)(void);
} tests[] = {
    {"keyctl", t_keyctl},
    {"add_key", t_add_key},
    {"request_key", t_request_key},
    {"unshare_user", t_unshare_user},
    {"unshare_mount", t_unshare_mount},
    {"clone_newuser", t_clone_newuser},
    {"clone3", t_clone3},
    {"io_uring_setup", t_io_uring_setup},
    {"userfaultfd", t_userfaultfd},
    {"perf_event_open", t_perf_event_open},
    {"getpid", t_getpid},
};

int main(void) {
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    int p[2];
    if (pipe(p) < 0) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      long e = tests[i].fn();
      dprintf(p[1], "%ld", e);
      _exit(0);
    }
    close(p[1]);
    char buf[32] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    waitpid(pid, NULL, 0);
    printf("%s %s\n", tests[i].name, n > 0 ? buf : "died");
  }
  return 0;
}
