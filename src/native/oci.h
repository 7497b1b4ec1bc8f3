/* The OCI roles of corral-shim (docs/oci.md): `oci-create` and `oci-exec`,
 * which corral-oci (src/oci/) runs with a config.json translated to options.
 * Unlike the monitor chain, nothing of Corral's own defaults applies: the
 * mounts, devices, namespaces and process are exactly the bundle's, and the
 * container's process is left to the caller's subreaper (conmon,
 * containerd-shim), which waits for it as it would for runc's. */
#ifndef CORRAL_OCI_H
#define CORRAL_OCI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "mounts.h"

enum oci_op_kind { OP_MOUNT, OP_REMOUNT_RO, OP_DEVICE, OP_SYMLINK };

struct oci_op {
  enum oci_op_kind kind;
  const char *src, *dst, *type, *data;
  unsigned long flags; /* MS_* for OP_MOUNT (MS_BIND: a bind; MS_REC: recursive) */
  unsigned long propagation; /* MS_PRIVATE|MS_SLAVE|MS_SHARED|MS_UNBINDABLE (| MS_REC), 0: none */
  char devtype;              /* OP_DEVICE: c, b, p (fifo) */
  unsigned long major, minor, mode, uid, gid;
};

#define OCI_MAX_RLIMITS 16
#define OCI_MAX_GROUPS 64

struct oci_process {
  int have_user;
  uid_t uid;
  gid_t gid;
  gid_t groups[OCI_MAX_GROUPS];
  int ngroups;
  uint64_t bounding, effective, permitted, inheritable, ambient;
  int no_new_privs;
  const char *cwd;
  char **env;
  size_t nenv;
  char **argv;
  int tty;
  int console; /* connected console socket fd (SCM_RIGHTS of the pty master), -1: none */
  void *seccomp;
  const char *oom_score_adj;
  struct {
    int resource;
    struct rlimit lim;
  } rlimits[OCI_MAX_RLIMITS];
  int nrlimits;
};

struct oci_opts {
  /* Namespaces: CLONE_NEW* to make, and paths to join (by type index). */
  int unshare;
  const char *join_path[8];
  int join_type[8];
  int njoin;
  const char *uid_map, *gid_map; /* written by the helper on IDMAP_REQUEST */
  const char **cgroup_procs;
  size_t ncgroup_procs;
  /* create */
  const char *rootfs;
  unsigned long root_propagation;
  int readonly_root;
  struct oci_op *ops;
  size_t nops;
  struct mounts m; /* masks and read-only paths (mount_masks) */
  const char **sysctl;
  size_t nsysctl;
  const char *hostname, *domainname;
  const char *exec_fifo;
  int exec_fifo_fd; /* O_PATH, opened by the helper */
  /* exec */
  unsigned long pid;
  unsigned long long pid_start;
  int detach;
  const char *console_socket;
  struct oci_process p;
};

/* oci-opts.c */
int oci_parse(int argc, char **argv, struct oci_opts *o, int exec);

/* oci-process.c: the process (rlimits, user, groups, capability sets,
 * no_new_privs, cwd, seccomp, environment) applied, then exec. */
__attribute__((noreturn)) void oci_process_run(struct oci_process *p);
/* A pty from the (already pivoted-into or joined) /dev/ptmx: the master goes
 * to the console socket, the slave becomes fds 0-2; with bind_console, it is
 * also bound onto /dev/console. */
int oci_console(struct oci_process *p, int bind_console);

/* oci-stage.c: the stage C1 runs (namespaces, then C2's setup); exits. */
__attribute__((noreturn)) void oci_stage_create(struct oci_opts *o);
__attribute__((noreturn)) void oci_stage_exec(struct oci_opts *o);

int oci_create_main(int argc, char **argv);
int oci_exec_main(int argc, char **argv);

#endif
