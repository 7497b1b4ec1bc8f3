#define _GNU_SOURCE
#include "init.h"
#include "net.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mounts.h"
#include "process.h"
#include "sync.h"
#include "util.h"

struct init_opts {
  struct mounts m;
  const char *hostname;
  int wait_run; /* create-then-start: READY, then wait for RUN before step 8 */
  struct process p;
};

static int parse(int argc, char **argv, struct init_opts *o) {
  struct mounts *m = &o->m;
  /* Each list can hold at most argc entries; allocated once, freed by exec. */
  m->lower = calloc((size_t)argc, sizeof *m->lower);
  m->masks = calloc((size_t)argc, sizeof *m->masks);
  m->ro_paths = calloc((size_t)argc, sizeof *m->ro_paths);
  m->binds = calloc((size_t)argc, sizeof *m->binds);
  if (!m->lower || !m->masks || !m->ro_paths || !m->binds || process_alloc(&o->p, argc) < 0)
    return failx("out of memory");

  int i;
  for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *opt = argv[i];
    int r = process_option(&o->p, argc, argv, &i, 1);
    if (r < 0) return -1;
    if (r > 0) continue;
    if (strcmp(opt, "--read-only") == 0) {
      m->read_only = 1;
      continue;
    }
    if (strcmp(opt, "--wait-run") == 0) {
      o->wait_run = 1;
      continue;
    }
    int need = strcmp(opt, "--bind") == 0 ? 3 : 1;
    if (i + need >= argc) return failx("init: option %s needs %d value(s)", opt, need);
    const char *v = argv[i + 1];
    if (strcmp(opt, "--rootfs") == 0) m->rootfs = v;
    else if (strcmp(opt, "--lower") == 0) m->lower[m->nlower++] = v;
    else if (strcmp(opt, "--upper") == 0) m->upper = v;
    else if (strcmp(opt, "--work") == 0) m->work = v;
    else if (strcmp(opt, "--mask") == 0) m->masks[m->nmasks++] = v;
    else if (strcmp(opt, "--readonly-path") == 0) m->ro_paths[m->nro++] = v;
    else if (strcmp(opt, "--hostname") == 0) o->hostname = v;
    else if (need == 3) {
      const char *mode = argv[i + 3];
      if (strcmp(mode, "rw") != 0 && strcmp(mode, "ro") != 0)
        return failx("init: --bind %s %s: mode must be rw or ro, not %s", v, argv[i + 2], mode);
      if (v[0] != '/') return failx("init: --bind %s: source not absolute", v);
      m->binds[m->nbinds++] = (struct bind){v, argv[i + 2], mode[1] == 'o'};
    } else return failx("init: unknown option %s", opt);
    i += need;
  }
  if (i + 1 >= argc) return failx("init: no program after --");
  o->p.argv = argv + i + 1;
  o->p.cmdline = argv[0];
  o->p.cmdline_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
  if (!m->rootfs || m->rootfs[0] != '/') return failx("init: --rootfs must be an absolute path");
  if (m->nlower && (!m->upper) != (!m->work)) return failx("init: --upper and --work go together");
  if (!m->nlower && m->upper) return failx("init: --upper needs --lower");
  for (size_t k = 0; k < m->nlower; k++)
    if (m->lower[k][0] != '/') return failx("init: --lower %s: not absolute", m->lower[k]);
  if (m->upper && (m->upper[0] != '/' || m->work[0] != '/'))
    return failx("init: --upper and --work must be absolute paths");
  m->tty = o->p.tty;
  mount_root_name = m->rootfs;
  return 0;
}

static void step(int r) {
  if (r < 0) sync_die(1);
}

/* C2: PID 1 of the new pid namespace. */
__attribute__((noreturn)) static void container_init(struct init_opts *o) {
  /* 1. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) step(fail("set non-dumpable"));
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) step(fail("make / private"));
  /* 2-5. */
  int rootfd = rootfs_mount(&o->m);
  step(rootfd);
  step(rootfs_system(rootfd));
  step(dev_setup(rootfd, o->m.tty));
  step(mount_user_binds(rootfd, &o->m));
  step(mount_masks(rootfd, &o->m));
  /* 6-7. */
  step(rootfs_pivot(rootfd, o->m.read_only));
  close(rootfd);
  if (o->hostname && sethostname(o->hostname, strlen(o->hostname)) < 0)
    step(fail("sethostname %s", o->hostname));
  step(loopback_up());
  /* 7b. The container exists, set up; the program starts when corrald says. */
  if (o->wait_run) step(sync_wait_run());
  /* 8-13. */
  process_run(&o->p);
}

int init_main(int argc, char **argv) {
  static struct init_opts o;
  sync_init();
  if (parse(argc, argv, &o) < 0) sync_die(1);

  /* After unshare(CLONE_NEWPID) our first child is PID 1. We report its
   * host pid and leave, so it is re-parented to the monitor (a subreaper),
   * which then waits for it directly. */
  pid_t pid = fork();
  if (pid < 0) {
    fail("fork");
    sync_die(1);
  }
  if (pid == 0) container_init(&o);
  if (sync_pid(pid) < 0) {
    kill(pid, SIGKILL); /* nobody would know to wait for it */
    sync_die(1);
  }
  _exit(0);
}
