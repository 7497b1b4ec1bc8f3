/* Options of `corral-shim oci-create` and `oci-exec` (docs/oci.md). corral-oci
 * translates config.json into them; each value is one argv string, so paths
 * and data may hold any byte but NUL. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "caps.h"
#include "oci.h"
#include "seccomp.h"
#include "util.h"

static const struct {
  const char *name;
  int flag;
} ns_names[] = {
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},       {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
    {"net", CLONE_NEWNET},   {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
};

static int ns_flag(const char *name, int *flag) {
  for (size_t k = 0; k < sizeof ns_names / sizeof ns_names[0]; k++)
    if (strcmp(ns_names[k].name, name) == 0) return *flag = ns_names[k].flag, 0;
  return failx("unknown namespace %s (user, mnt, uts, ipc, net, cgroup, pid, time)", name);
}

static int caps_csv(const char *csv, uint64_t *mask) {
  char buf[2048];
  *mask = 0;
  if (snprintf(buf, sizeof buf, "%s", csv) >= (int)sizeof buf) return failx("capability list too long");
  for (char *save, *n = strtok_r(buf, ",", &save); n; n = strtok_r(NULL, ",", &save))
    if (cap_parse(n, mask) < 0) return -1;
  return 0;
}

static int num(const char *opt, const char *v, unsigned long max, unsigned long *out) {
  if (parse_ulong(v, max, out) < 0) return failx("%s %s: not a number up to %lu", opt, v, max);
  return 0;
}

/* "-1" or a number: RLIM_INFINITY for the former. */
static int rlim(const char *v, rlim_t *out) {
  if (strcmp(v, "-1") == 0 || strcmp(v, "18446744073709551615") == 0) return *out = RLIM_INFINITY, 0;
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  if (!*v || *end) return failx("--rlimit: bad limit %s", v);
  *out = (rlim_t)n;
  return 0;
}

int oci_parse(int argc, char **argv, struct oci_opts *o, int exec) {
  struct oci_process *p = &o->p;
  size_t n = (size_t)argc;
  o->ops = calloc(n, sizeof *o->ops);
  o->cgroup_procs = calloc(n, sizeof *o->cgroup_procs);
  o->sysctl = calloc(n, sizeof *o->sysctl);
  o->m.masks = calloc(n, sizeof *o->m.masks);
  o->m.ro_paths = calloc(n, sizeof *o->m.ro_paths);
  p->env = calloc(n + 2, sizeof *p->env);
  if (!o->ops || !o->cgroup_procs || !o->sysctl || !o->m.masks || !o->m.ro_paths || !p->env) return failx("out of memory");
  p->console = -1;
  o->m.userns = -1;

  int i;
  for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *opt = argv[i];
    /* Flags without a value. */
    if (strcmp(opt, "--tty") == 0) { p->tty = 1; continue; }
    if (strcmp(opt, "--no-new-privs") == 0) { p->no_new_privs = 1; continue; }
    if (strcmp(opt, "--readonly-root") == 0) { o->readonly_root = 1; continue; }
    if (strcmp(opt, "--detach") == 0) { o->detach = 1; continue; }
    int need = 1;
    if (!strcmp(opt, "--mount")) need = 6;
    else if (!strcmp(opt, "--device")) need = 7;
    else if (!strcmp(opt, "--join") || !strcmp(opt, "--symlink") || !strcmp(opt, "--user") ||
             !strcmp(opt, "--sysctl"))
      need = 2;
    else if (!strcmp(opt, "--rlimit")) need = 3;
    if (i + need >= argc) return failx("oci: option %s needs %d value(s)", opt, need);
    char **v = argv + i + 1;
    unsigned long x;
    if (!strcmp(opt, "--new")) {
      int f = 0;
      if (ns_flag(v[0], &f) < 0) return -1;
      o->unshare |= f;
    } else if (!strcmp(opt, "--join")) {
      int f = 0;
      if (ns_flag(v[0], &f) < 0) return -1;
      if (o->njoin == 8) return failx("oci: too many --join");
      o->join_type[o->njoin] = f, o->join_path[o->njoin++] = v[1];
    } else if (!strcmp(opt, "--uid-map")) o->uid_map = v[0];
    else if (!strcmp(opt, "--gid-map")) o->gid_map = v[0];
    else if (!strcmp(opt, "--cgroup-procs")) o->cgroup_procs[o->ncgroup_procs++] = v[0];
    else if (!strcmp(opt, "--rootfs")) o->rootfs = v[0];
    else if (!strcmp(opt, "--root-propagation")) {
      if (num(opt, v[0], 0xffffffffUL, &o->root_propagation) < 0) return -1;
    } else if (!strcmp(opt, "--mount")) {
      /* SRC DST TYPE FLAGS PROPAGATION DATA */
      struct oci_op *op = &o->ops[o->nops++];
      op->kind = OP_MOUNT, op->src = v[0], op->dst = v[1], op->type = v[2], op->data = v[5];
      if (num(opt, v[3], 0xffffffffUL, &op->flags) < 0 || num(opt, v[4], 0xffffffffUL, &op->propagation) < 0) return -1;
      if (v[1][0] != '/') return failx("oci: --mount destination %s: not absolute", v[1]);
    } else if (!strcmp(opt, "--remount-ro")) {
      struct oci_op *op = &o->ops[o->nops++];
      op->kind = OP_REMOUNT_RO, op->dst = v[0];
    } else if (!strcmp(opt, "--device")) {
      /* PATH TYPE MAJOR MINOR MODE UID GID */
      struct oci_op *op = &o->ops[o->nops++];
      op->kind = OP_DEVICE, op->dst = v[0], op->devtype = v[1][0];
      if (strlen(v[1]) != 1 || !strchr("cbpu", v[1][0])) return failx("oci: --device %s: type %s (c, b, u or p)", v[0], v[1]);
      if (op->devtype == 'u') op->devtype = 'c';
      if (num(opt, v[2], 0xfffffffUL, &op->major) < 0 || num(opt, v[3], 0xfffffffUL, &op->minor) < 0 ||
          num(opt, v[4], 07777, &op->mode) < 0 || num(opt, v[5], 0xfffffffeUL, &op->uid) < 0 ||
          num(opt, v[6], 0xfffffffeUL, &op->gid) < 0)
        return -1;
    } else if (!strcmp(opt, "--symlink")) {
      struct oci_op *op = &o->ops[o->nops++];
      op->kind = OP_SYMLINK, op->src = v[0], op->dst = v[1];
    } else if (!strcmp(opt, "--mask")) o->m.masks[o->m.nmasks++] = v[0];
    else if (!strcmp(opt, "--readonly-path")) o->m.ro_paths[o->m.nro++] = v[0];
    else if (!strcmp(opt, "--sysctl")) {
      o->sysctl[o->nsysctl++] = v[0];
      o->sysctl[o->nsysctl++] = v[1];
    } else if (!strcmp(opt, "--hostname")) o->hostname = v[0];
    else if (!strcmp(opt, "--domainname")) o->domainname = v[0];
    else if (!strcmp(opt, "--exec-fifo")) o->exec_fifo = v[0];
    else if (!strcmp(opt, "--console-socket")) o->console_socket = v[0];
    else if (!strcmp(opt, "--pid")) {
      if (num(opt, v[0], 0x3fffffff, &o->pid) < 0) return -1;
    } else if (!strcmp(opt, "--pid-start")) {
      if (num(opt, v[0], (unsigned long)-1, &x) < 0) return -1;
      o->pid_start = x;
    } else if (!strcmp(opt, "--user")) {
      unsigned long u, g;
      if (num(opt, v[0], 0xfffffffeUL, &u) < 0 || num(opt, v[1], 0xfffffffeUL, &g) < 0) return -1;
      p->have_user = 1, p->uid = (uid_t)u, p->gid = (gid_t)g;
    } else if (!strcmp(opt, "--group")) {
      if (num(opt, v[0], 0xfffffffeUL, &x) < 0) return -1;
      if (p->ngroups == OCI_MAX_GROUPS) return failx("oci: more than %d --group", OCI_MAX_GROUPS);
      p->groups[p->ngroups++] = (gid_t)x;
    } else if (!strcmp(opt, "--cap-bounding")) {
      if (caps_csv(v[0], &p->bounding) < 0) return -1;
    } else if (!strcmp(opt, "--cap-effective")) {
      if (caps_csv(v[0], &p->effective) < 0) return -1;
    } else if (!strcmp(opt, "--cap-permitted")) {
      if (caps_csv(v[0], &p->permitted) < 0) return -1;
    } else if (!strcmp(opt, "--cap-inheritable")) {
      if (caps_csv(v[0], &p->inheritable) < 0) return -1;
    } else if (!strcmp(opt, "--cap-ambient")) {
      if (caps_csv(v[0], &p->ambient) < 0) return -1;
    } else if (!strcmp(opt, "--cwd")) {
      if (v[0][0] != '/') return failx("oci: --cwd %s: not absolute", v[0]);
      p->cwd = v[0];
    } else if (!strcmp(opt, "--env")) {
      if (!strchr(v[0], '=')) return failx("oci: --env %s: no '='", v[0]);
      p->env[p->nenv++] = v[0];
    } else if (!strcmp(opt, "--seccomp")) {
      if (p->seccomp) return failx("oci: --seccomp given twice");
      if (seccomp_prepare(v[0], &p->seccomp) < 0) return -1;
    } else if (!strcmp(opt, "--oom-score-adj")) p->oom_score_adj = v[0];
    else if (!strcmp(opt, "--rlimit")) {
      if (p->nrlimits == OCI_MAX_RLIMITS) return failx("oci: more than %d --rlimit", OCI_MAX_RLIMITS);
      if (num(opt, v[0], RLIMIT_NLIMITS - 1, &x) < 0) return -1;
      p->rlimits[p->nrlimits].resource = (int)x;
      if (rlim(v[1], &p->rlimits[p->nrlimits].lim.rlim_cur) < 0 || rlim(v[2], &p->rlimits[p->nrlimits].lim.rlim_max) < 0)
        return -1;
      p->nrlimits++;
    } else return failx("oci: unknown option %s", opt);
    i += need;
  }
  if (i + 1 >= argc) return failx("oci: no program after --");
  p->argv = argv + i + 1;
  if (exec) {
    if (!o->pid) return failx("oci-exec: --pid and --pid-start are required");
  } else {
    if (!o->rootfs || o->rootfs[0] != '/') return failx("oci-create: --rootfs must be an absolute path");
    if (!o->exec_fifo || o->exec_fifo[0] != '/') return failx("oci-create: --exec-fifo must be an absolute path");
    mount_root_name = o->rootfs;
  }
  return 0;
}
