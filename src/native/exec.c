#define _GNU_SOURCE
#include "exec.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"
#include "sync.h"
#include "userns.h"
#include "util.h"

/* net first: a prepared network namespace belongs to the host's user
 * namespace, and joining it needs CAP_SYS_ADMIN there, which we give up by
 * entering the container's user namespace, next; the rest belong to that
 * one. mnt last: once in the container's mount namespace, /proc is its
 * /proc and our root is its root. */
static const struct {
  const char *name;
  int type;
} namespaces[] = {
    {"net", CLONE_NEWNET}, {"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},    {"uts", CLONE_NEWUTS},
    {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};
#define NNS (sizeof namespaces / sizeof namespaces[0])

static void step(int r) {
  if (r < 0) sync_die(1);
}

static int parse(int argc, char **argv, struct process *p, unsigned long *pid, unsigned long long *start) {
  int have_pid = 0, have_start = 0;
  if (process_alloc(p, argc) < 0) return -1;
  int i;
  for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
    int r = process_option(p, argc, argv, &i, 0);
    if (r < 0) return -1;
    if (r > 0) continue;
    const char *opt = argv[i];
    if (i + 1 >= argc) return failx("exec: option %s needs a value", opt);
    const char *v = argv[++i];
    unsigned long n;
    if (strcmp(opt, "--pid") == 0) {
      if (parse_ulong(v, 0x3fffffff, pid) < 0 || *pid == 0) return failx("exec: bad --pid %s", v);
      have_pid = 1;
    } else if (strcmp(opt, "--pid-start") == 0) {
      if (parse_ulong(v, (unsigned long)-1, &n) < 0) return failx("exec: bad --pid-start %s", v);
      *start = n;
      have_start = 1;
    } else {
      return failx("exec: unknown option %s", opt);
    }
  }
  if (!have_pid || !have_start) return failx("exec: --pid and --pid-start are required");
  if (i + 1 >= argc) return failx("exec: no program after --");
  p->argv = argv + i + 1;
  return 0;
}

int exec_main(int argc, char **argv) {
  static struct process p;
  unsigned long pid;
  unsigned long long start = 0;
  int fds[NNS];

  sync_init();
  /* First, so nothing in the container can open our /proc/PID/exe or
   * ptrace us while we carry host privileges into its namespaces. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) step(fail("set non-dumpable"));
  step(parse(argc, argv, &p, &pid, &start));

  /* Everything goes through one /proc/PID directory fd: if the pid were
   * reused after our check, every openat below would fail (ESRCH) instead
   * of naming another process's namespaces. */
  char path[32];
  snprintf(path, sizeof path, "/proc/%lu", pid);
  int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) step(fail("open %s", path));
  unsigned long long actual;
  if (starttime_at(dir, &actual) < 0) step(fail("read %s/stat", path));
  if (actual != start)
    step(failx("exec: pid %lu started at %llu, not %llu: not the container", pid, actual, start));
  for (size_t i = 0; i < NNS; i++) {
    char ns[16];
    snprintf(ns, sizeof ns, "ns/%s", namespaces[i].name);
    fds[i] = openat(dir, ns, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) step(fail("open %s/%s", path, ns));
  }
  if (starttime_at(dir, &actual) < 0 || actual != start) step(failx("exec: pid %lu exited", pid));
  close(dir);
  for (size_t i = 0; i < NNS; i++) {
    if (namespaces[i].type == CLONE_NEWUSER) {
      /* A container without a user namespace of its own shares ours, and
       * setns into the namespace one is in fails. */
      struct stat a, b;
      if (fstat(fds[i], &a) < 0 || stat("/proc/self/ns/user", &b) < 0) step(fail("stat %s/ns/user", path));
      if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
        close(fds[i]);
        continue;
      }
      /* Lowering the OOM score needs the host's CAP_SYS_RESOURCE: now or never (the child inherits it). */
      if (p.oom_score_adj && write_file("/proc/self/oom_score_adj", p.oom_score_adj) < 0) sync_die(1);
      p.oom_score_adj = NULL;
      step(userns_enter(fds[i]));
      close(fds[i]);
      continue;
    }
    if (setns(fds[i], namespaces[i].type) < 0) step(fail("setns %s/ns/%s", path, namespaces[i].name));
    close(fds[i]);
  }

  /* The pid namespace applies to children only. */
  pid_t child = fork();
  if (child < 0) step(fail("fork"));
  if (child == 0) process_run(&p);
  if (sync_pid(child) < 0) {
    kill(child, SIGKILL);
    sync_die(1);
  }
  _exit(0);
}
