#define _GNU_SOURCE
#include "init.h"
#include "net.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "boot.h"
#include "mounts.h"
#include "process.h"
#include "sync.h"
#include "userns.h"
#include "util.h"

struct init_opts {
  struct mounts m;
  const char *hostname;
  int wait_run; /* create-then-start: READY, then wait for RUN before step 8 */
  int userns;   /* --userns: make a user namespace (steps 0a-0f) */
  int boot;     /* --boot: a system container (boot.h) */
  int net_owned; /* the joined network namespace belongs to the container's user namespace */
  int unshare;  /* --unshare LIST: CLONE_NEW* flags to unshare ourselves */
  const char *unshare_list;
  struct process p;
};

static const struct {
  const char *name;
  int flag;
} ns_names[] = {
    {"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS},       {"ipc", CLONE_NEWIPC},
    {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID},
};

/* "mnt,uts,ipc,cgroup,pid" into CLONE_NEW* flags. */
static int parse_namespaces(const char *list, int *flags) {
  char buf[128];
  if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) return failx("init: --unshare %s: too long", list);
  for (char *save, *n = strtok_r(buf, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
    size_t k = 0;
    while (k < sizeof ns_names / sizeof ns_names[0] && strcmp(ns_names[k].name, n) != 0) k++;
    if (k == sizeof ns_names / sizeof ns_names[0])
      return failx("init: --unshare %s: unknown namespace %s (mnt, uts, ipc, net, cgroup, pid)", list, n);
    *flags |= ns_names[k].flag;
  }
  return 0;
}

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
    if (strcmp(opt, "--userns") == 0) {
      o->userns = 1;
      continue;
    }
    if (strcmp(opt, "--boot") == 0) {
      o->boot = 1;
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
    else if (strcmp(opt, "--unshare") == 0) {
      if (parse_namespaces(v, &o->unshare) < 0) return -1;
      o->unshare_list = v;
    } else if (need == 3) {
      const char *mode = argv[i + 3];
      int idmap = strcmp(mode, "rw,idmap") == 0 || strcmp(mode, "ro,idmap") == 0;
      if (strcmp(mode, "rw") != 0 && strcmp(mode, "ro") != 0 && !idmap)
        return failx("init: --bind %s %s: mode must be rw or ro (optionally with ,idmap), not %s", v, argv[i + 2], mode);
      if (v[0] != '/') return failx("init: --bind %s: source not absolute", v);
      m->binds[m->nbinds++] = (struct bind){.src = v, .dst = argv[i + 2], .ro = mode[1] == 'o', .idmap = idmap, .tree = -1};
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
  if (o->userns && !(o->unshare & CLONE_NEWNS)) return failx("init: --userns needs --unshare with mnt");
  for (size_t k = 0; k < m->nbinds; k++)
    if (m->binds[k].idmap && !o->userns)
      return failx("init: --bind %s %s: idmap needs --userns", m->binds[k].src, m->binds[k].dst);
  m->tty = o->p.tty;
  m->userns = -1;
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
  if (o->m.premounted) {
    step(mount_fs(rootfd, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
    if (o->unshare & CLONE_NEWNET) step(rootfs_sysfs(rootfd));
    step(mount_deferred_binds(rootfd, &o->m));
    step(dev_setup(rootfd, o->m.tty));
  } else {
    step(rootfs_system(rootfd));
    step(dev_setup(rootfd, o->m.tty));
    step(mount_user_binds(rootfd, &o->m));
  }
  if (o->boot) step(boot_mounts(rootfd));
  step(mount_masks(rootfd, &o->m));
  /* 6-7. */
  step(rootfs_pivot(rootfd, o->m.read_only));
  close(rootfd);
  if (o->hostname && sethostname(o->hostname, strlen(o->hostname)) < 0)
    step(fail("sethostname %s", o->hostname));
  /* A network namespace we did not make in the user namespace had lo
   * brought up in step 0d (we hold no capability over it now). */
  if (!o->userns || (o->unshare & CLONE_NEWNET) || o->net_owned) step(loopback_up());
  /* 7b. The container exists, set up; the program starts when corrald says. */
  if (o->wait_run) step(sync_wait_run());
  /* 8-13. */
  process_run(&o->p);
}

/* Steps 0a-0f (docs/shim.md), while we are still host root: a user
 * namespace, and in a mount namespace of our own whatever only host root
 * can make (the overlay on idmapped layers, /sys of the network namespace,
 * the binds, whose sources container root may not reach). The namespaces
 * unshared at the end belong to the user namespace; the mount namespace
 * copied then takes these mounts along, locked: the container cannot
 * unmount or remount them. */
static void privileged(struct init_opts *o) {
  struct mounts *m = &o->m;
  /* 0a. The one our (prepared) network namespace belongs to, or a new one. */
  int userns = o->unshare & CLONE_NEWNET ? -2 : userns_of_netns(&mount_create_uid, &mount_create_gid);
  step(userns == -1 ? -1 : 0);
  o->net_owned = userns >= 0;
  if (userns == -2) userns = userns_make(&mount_create_uid, &mount_create_gid);
  step(userns);
  /* 0b. */
  if (unshare(CLONE_NEWNS) < 0) step(fail("unshare a mount namespace"));
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) step(fail("make / private"));
  /* 0c. Lowering the OOM score needs CAP_SYS_RESOURCE in the host's user
   * namespace; PID 1 inherits the value. */
  if (o->p.oom_score_adj && write_file("/proc/self/oom_score_adj", o->p.oom_score_adj) < 0) sync_die(1);
  o->p.oom_score_adj = NULL; /* done (and, non-dumpable, not writable by container root) */
  for (size_t i = 0; i < m->nlower; i++) step(userns_idmap_over(m->lower[i], userns));
  int rootfd = rootfs_mount(m);
  step(rootfd);
  /* /sys shows the network namespace it is mounted in: ours, unless one
   * is made in the user namespace, where PID 1 mounts it. */
  if (!(o->unshare & CLONE_NEWNET)) step(rootfs_sysfs(rootfd));
  m->userns = userns;
  m->defer_proc_sys = 1;
  step(mount_user_binds(rootfd, m));
  m->userns = -1;
  m->premounted = 1;
  mount_create_uid = (uid_t)-1, mount_create_gid = (gid_t)-1; /* from here on, we are that root */
  /* PID 1 finds the root by our cwd (see rootfs.c). */
  if (fchdir(rootfd) < 0) step(fail("chdir %s", m->rootfs));
  close(rootfd);
  /* 0d. */
  if (!(o->unshare & CLONE_NEWNET) && !o->net_owned) {
    step(userns_netns_sysctls());
    step(loopback_up());
  }
  /* 0e. */
  step(userns_enter(userns));
  close(userns);
}

int init_main(int argc, char **argv) {
  static struct init_opts o;
  sync_init();
  if (parse(argc, argv, &o) < 0) sync_die(1);
  if (o.userns) privileged(&o);
  /* 0f. (the user namespace's own, with --userns) */
  if (o.unshare && unshare(o.unshare) < 0) step(fail("unshare %s", o.unshare_list));

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
