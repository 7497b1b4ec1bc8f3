/* `corral-shim probe idmap DIR` and `corral-shim probe seccomp FILE`: what
 * `corral doctor` asks the kernel instead of guessing from its version.
 * Each runs in a child that exits when done, so its namespaces and mounts
 * vanish with it; DIR gets a scratch directory that is removed again.
 *
 *   idmap DIR     the init stage's steps on DIR's filesystem: a user namespace
 *                 (maps written as the monitor writes them), an idmapped copy
 *                 of a directory (open_tree + mount_setattr(MOUNT_ATTR_IDMAP)),
 *                 and an overlay over that idmapped lower. One line per step:
 *                 `userns ok`, `idmap ok`, `overlay ok`, or `NAME fail MESSAGE`
 *                 (the later steps are then `NAME skip`).
 *   seccomp FILE  loads the BPF program FILE (corral-seccomp's output) as the
 *                 init stage does, then calls keyctl(2): `seccomp ok keyctl
 *                 EPERM` (or the errno it got), or `seccomp fail MESSAGE`.
 * Exit 0 when the lines were written, 1 when the probe itself could not run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"
#include "seccomp.h"
#include "userns.h"
#include "util.h"

/* Any range works for a probe: nothing it maps outlives it. */
#define PROBE_BASE 2147418112UL
#define PROBE_MAP "0 2147418112 65536"

static void line(const char *name, const char *status, const char *msg) {
  printf("%s %s%s%s\n", name, status, msg ? " " : "", msg ? msg : "");
  fflush(stdout);
}

/* A user namespace whose maps we write, held by an fd. */
static int probe_userns(void) {
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) return fail("pipe");
  pid_t h = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (h < 0) {
    close(hold[0]), close(hold[1]);
    return fail("clone a user namespace");
  }
  if (h == 0) {
    char c;
    close(hold[1]);
    while (read(hold[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(hold[0]);
  int fd = -1;
  char ns[48];
  snprintf(ns, sizeof ns, "/proc/%d/ns/user", (int)h);
  if (proto_idmap_write(h, PROBE_MAP, PROBE_MAP) == 0 && (fd = open(ns, O_RDONLY | O_CLOEXEC)) < 0) fail("open %s", ns);
  int e = errno;
  close(hold[1]);
  while (waitpid(h, NULL, 0) < 0 && errno == EINTR) {}
  errno = e;
  return fd;
}

static int idmap_steps(const char *scratch) {
  char lower[4200], upper[4200], work[4200], merged[4200], file[4300], opts[16384];
  snprintf(lower, sizeof lower, "%s/lower", scratch);
  snprintf(upper, sizeof upper, "%s/upper", scratch);
  snprintf(work, sizeof work, "%s/work", scratch);
  snprintf(merged, sizeof merged, "%s/merged", scratch);
  snprintf(file, sizeof file, "%s/f", lower);
  const char *dirs[] = {lower, upper, work, merged};
  for (int i = 0; i < 4; i++)
    if (mkdir(dirs[i], 0755) < 0) return fail("mkdir %s", dirs[i]), line("userns", "fail", errmsg()), 1;
  int f = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (f < 0) return fail("create %s", file), line("userns", "fail", errmsg()), 1;
  close(f);

  int userns = probe_userns();
  if (userns < 0) {
    line("userns", "fail", errmsg());
    line("idmap", "skip", NULL), line("overlay", "skip", NULL);
    return 0;
  }
  line("userns", "ok", NULL);
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
    fail("a private mount namespace");
    line("idmap", "fail", errmsg()), line("overlay", "skip", NULL);
    return 0;
  }
  struct stat st;
  if (userns_idmap_over(lower, userns) < 0) {
    line("idmap", "fail", errmsg()), line("overlay", "skip", NULL);
    return 0;
  }
  if (stat(file, &st) < 0) fail("stat %s", file), line("idmap", "fail", errmsg());
  else if (st.st_uid != PROBE_BASE) failx("%s: owned by %u through the idmapped mount, not %lu", file, (unsigned)st.st_uid, PROBE_BASE), line("idmap", "fail", errmsg());
  else line("idmap", "ok", NULL);
  snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
  snprintf(file, sizeof file, "%s/f", merged);
  if (mount("overlay", merged, "overlay", MS_NODEV, opts) < 0) fail("mount overlay on %s", merged), line("overlay", "fail", errmsg());
  else if (stat(file, &st) < 0) fail("stat %s", file), line("overlay", "fail", errmsg());
  else if (st.st_uid != PROBE_BASE) failx("%s: owned by %u through the overlay, not %lu", file, (unsigned)st.st_uid, PROBE_BASE), line("overlay", "fail", errmsg());
  else line("overlay", "ok", NULL);
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)ftw;
  return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

static int probe_idmap(const char *dir) {
  char scratch[4096];
  if (snprintf(scratch, sizeof scratch, "%s/.corral-probe-XXXXXX", dir) >= (int)sizeof scratch) {
    fprintf(stderr, "corral-shim probe: %s: path too long\n", dir);
    return 1;
  }
  if (!mkdtemp(scratch)) {
    fprintf(stderr, "corral-shim probe: mkdtemp %s: %s\n", scratch, strerror(errno));
    return 1;
  }
  pid_t c = fork();
  if (c == 0) _exit(idmap_steps(scratch));
  int status = 1;
  if (c < 0) fprintf(stderr, "corral-shim probe: fork: %s\n", strerror(errno));
  else while (waitpid(c, &status, 0) < 0 && errno == EINTR) {}
  /* The child's mounts went with its mount namespace. */
  if (nftw(scratch, rm_entry, 8, FTW_DEPTH | FTW_PHYS) < 0) {
    fprintf(stderr, "corral-shim probe: remove %s: %s\n", scratch, strerror(errno));
    return 1;
  }
  return c > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int probe_seccomp(const char *file) {
  void *filter = NULL;
  if (seccomp_prepare(file, &filter) < 0) return line("seccomp", "fail", errmsg()), 0;
  pid_t c = fork();
  if (c < 0) return fprintf(stderr, "corral-shim probe: fork: %s\n", strerror(errno)), 1;
  if (c == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("prctl PR_SET_NO_NEW_PRIVS"), line("seccomp", "fail", errmsg()), _exit(0);
    if (seccomp_install(filter) < 0) line("seccomp", "fail", errmsg()), _exit(0);
    /* KEYCTL_GET_KEYRING_ID of the session keyring, without creating it. */
    long r = syscall(SYS_keyctl, 0, -3, 0);
    char msg[64];
    snprintf(msg, sizeof msg, "keyctl %s", r >= 0 ? "allowed" : errno == EPERM ? "EPERM" : strerror(errno));
    line("seccomp", "ok", msg);
    _exit(0);
  }
  int status;
  while (waitpid(c, &status, 0) < 0 && errno == EINTR) {}
  if (WIFSIGNALED(status)) {
    char msg[64];
    snprintf(msg, sizeof msg, "the probe was killed by signal %d after loading the filter", WTERMSIG(status));
    line("seccomp", "fail", msg);
  }
  return 0;
}

int probe_main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[2], "idmap") == 0) return probe_idmap(argv[3]);
  if (argc == 4 && strcmp(argv[2], "seccomp") == 0) return probe_seccomp(argv[3]);
  fprintf(stderr, "usage: corral-shim probe idmap DIR | corral-shim probe seccomp FILE\n");
  return 2;
}
