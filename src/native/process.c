#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "pathexec.h"
#include "reaper.h"
#include "seccomp.h"
#include "sync.h"
#include "user.h"
#include "util.h"

int process_alloc(struct process *p, int argc) {
  memset(p, 0, sizeof *p);
  p->env = calloc((size_t)argc + 2, sizeof *p->env); /* + HOME + NULL */
  return p->env ? 0 : failx("out of memory");
}

int process_option(struct process *p, int argc, char **argv, int *i, int allow_init) {
  const char *o = argv[*i];
  if (strcmp(o, "--tty") == 0) return p->tty = 1;
  if (allow_init && strcmp(o, "--init") == 0) return p->init = 1;
  if (strcmp(o, "--user") && strcmp(o, "--cap") && strcmp(o, "--cwd") && strcmp(o, "--env") &&
      strcmp(o, "--oom-score-adj") && strcmp(o, "--seccomp"))
    return 0;
  if (*i + 1 >= argc) return failx("option %s needs a value", o);
  const char *v = argv[++*i];
  if (strcmp(o, "--user") == 0) {
    p->user = v;
  } else if (strcmp(o, "--cap") == 0) {
    if (cap_parse(v, &p->caps) < 0) return -1;
  } else if (strcmp(o, "--oom-score-adj") == 0) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == 0 || *end || n < -1000 || n > 1000) return failx("--oom-score-adj %s: expected -1000..1000", v);
    p->oom_score_adj = v;
  } else if (strcmp(o, "--seccomp") == 0) {
    /* Compiled now, while the host path is reachable (before pivot_root or setns). */
    if (p->seccomp) return failx("--seccomp given twice");
    if (seccomp_prepare(v, &p->seccomp) < 0) return -1;
  } else if (strcmp(o, "--cwd") == 0) {
    if (v[0] != '/') return failx("--cwd %s: not absolute", v);
    p->cwd = v;
  } else {
    if (!strchr(v, '=')) return failx("--env %s: no '='", v);
    p->env[p->nenv++] = (char *)v;
  }
  return 1;
}

/* mkdir -p as root, before the uid changes (as Docker creates WORKDIR); the
 * root is already the container's, so symlinks resolve inside it. */
static int mkdir_p(const char *dir) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
    errno = ENAMETOOLONG;
    return fail("mkdir %s", dir);
  }
  for (char *s = buf + 1;; s++) {
    if (*s != '/' && *s) continue;
    char c = *s;
    *s = 0;
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) return fail("mkdir %s", buf);
    if (!(*s = c)) break;
  }
  return 0;
}

static int has_key(char **env, const char *key) {
  size_t n = strlen(key);
  for (; *env; env++)
    if (strncmp(*env, key, n) == 0 && (*env)[n] == '=') return 1;
  return 0;
}

static void step(int r) {
  if (r < 0) sync_die(1);
}

void process_run(struct process *p) {
  struct user u;
  const char *cwd = p->cwd ? p->cwd : "/";

  /* 8. A session of our own; with a tty, fd 0 becomes its controlling tty. */
  if (setsid() < 0) step(fail("setsid"));
  if (p->tty && ioctl(0, TIOCSCTTY, 0) < 0) step(fail("set the controlling terminal (TIOCSCTTY on fd 0)"));

  /* 9. User: resolved in the container's files, applied below. */
  step(user_resolve(p->user, &u));
  if (!has_key(p->env, "HOME")) {
    static char home[sizeof u.home + 8];
    snprintf(home, sizeof home, "HOME=%s", u.home);
    p->env[p->nenv++] = home;
  }
  p->env[p->nenv] = NULL;
  step(mkdir_p(cwd));
  /* Before privileges drop: lowering it needs CAP_SYS_RESOURCE. */
  if (p->oom_score_adj && write_file("/proc/self/oom_score_adj", p->oom_score_adj) < 0) {
    if (errno == EACCES && p->oom_score_adj[0] == '-')
      failx("--oom-score-adj %s: lowering the OOM score needs CAP_SYS_RESOURCE, which root lacks on this host", p->oom_score_adj);
    sync_die(1);
  }

  /* 10. The bounding set goes first: dropping needs CAP_SETPCAP, which a
   * non-root uid loses at setuid. */
  step(caps_bound(p->caps));
  if (setgroups((size_t)u.ngroups, u.groups) < 0) step(fail("setgroups"));
  if (setgid(u.gid) < 0) step(fail("setgid %u", (unsigned)u.gid));
  if (setuid(u.uid) < 0) step(fail("setuid %u", (unsigned)u.uid));
  step(caps_set(u.uid == 0 ? p->caps : 0));
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) step(fail("set no_new_privs"));

  /* 11. */
  if (chdir(cwd) < 0) step(fail("chdir %s", cwd));
  /* 11c. Last before exec: the filter needs no_new_privs (set above) and must
   * not see the set-up's own syscalls. The --init reaper runs under it too. */
  if (p->seccomp) step(seccomp_install(p->seccomp));

  /* 12-13. */
  if (p->init) reaper_run(p);
  sync_die(exec_program(p->argv, p->env));
}
