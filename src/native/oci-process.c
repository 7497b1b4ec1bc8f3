/* The OCI process (config.json `process`), applied in the order runc uses:
 * session and tty, rlimits, groups and ids (keeping capabilities across the
 * uid change), the five capability sets, no_new_privs, cwd, seccomp, exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "mounts.h"
#include "oci.h"
#include "pathexec.h"
#include "seccomp.h"
#include "sync.h"
#include "user.h"
#include "util.h"

static void step(int r) {
  if (r < 0) sync_die(1);
}

static int send_fd(int sock, int fd) {
  char name[] = "/dev/ptmx";
  struct iovec iov = {name, sizeof name - 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? fail("send the pty master to the console socket") : 0;
}

int oci_console(struct oci_process *p, int bind_console) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return fail("open /dev/ptmx");
  if (unlockpt(master) < 0) return close(master), fail("unlockpt /dev/ptmx");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) return close(master), fail("open the pty slave (TIOCGPTPEER)");
  if (bind_console) {
    char path[64];
    if (ptsname_r(master, path, sizeof path) != 0) return fail("ptsname");
    int fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    if (mount(path, "/dev/console", NULL, MS_BIND, NULL) < 0) return fail("bind mount %s on /dev/console", path);
  }
  int r = send_fd(p->console, master);
  close(master);
  close(p->console);
  p->console = -1;
  if (r < 0) return -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) return fail("dup2 the pty slave to fd %d", fd);
  if (slave > 2) close(slave);
  return 0;
}

static int capset_sets(uint64_t eff, uint64_t perm, uint64_t inh) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) < 0) return fail("capget");
  /* A capability the host already took away (CAP_SYS_RESOURCE here) cannot
   * be asked for; runc fails, podman's defaults would never start. */
  uint64_t held = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
  perm &= held, eff &= perm, inh &= held | (uint64_t)data[0].inheritable | (uint64_t)data[1].inheritable << 32;
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(eff >> (32 * i));
    data[i].permitted = (uint32_t)(perm >> (32 * i));
    data[i].inheritable = (uint32_t)(inh >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) return fail("capset");
  return 0;
}

static int has_key(char **env, const char *key) {
  size_t n = strlen(key);
  for (; *env; env++)
    if (strncmp(*env, key, n) == 0 && (*env)[n] == '=') return 1;
  return 0;
}

void oci_process_run(struct oci_process *p) {
  if (setsid() < 0) step(fail("setsid"));
  if (p->tty && ioctl(0, TIOCSCTTY, 0) < 0) step(fail("set the controlling terminal (TIOCSCTTY on fd 0)"));

  for (int i = 0; i < p->nrlimits; i++)
    if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].lim) < 0)
      step(fail("setrlimit %d to %llu:%llu", p->rlimits[i].resource, (unsigned long long)p->rlimits[i].lim.rlim_cur,
                (unsigned long long)p->rlimits[i].lim.rlim_max));
  if (p->oom_score_adj && write_file("/proc/self/oom_score_adj", p->oom_score_adj) < 0) sync_die(1);

  /* HOME from the container's passwd when the bundle sets none (as runc). */
  p->env[p->nenv] = NULL;
  if (!has_key(p->env, "HOME")) {
    static struct user u;
    static char home[sizeof u.home + 8];
    char spec[32];
    snprintf(spec, sizeof spec, "%u", p->have_user ? (unsigned)p->uid : 0u);
    if (user_resolve(spec, &u) == 0) {
      snprintf(home, sizeof home, "HOME=%s", u.home);
      p->env[p->nenv++] = home;
      p->env[p->nenv] = NULL;
    }
  }

  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
   * uid change may take: load it now (runc does the same). */
  if (p->seccomp && !p->no_new_privs) step(seccomp_install(p->seccomp));

  step(caps_bound(p->bounding));
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) step(fail("set keep-capabilities"));
  if (setgroups((size_t)p->ngroups, p->groups) < 0) step(fail("setgroups"));
  if (p->have_user) {
    if (setresgid(p->gid, p->gid, p->gid) < 0) step(fail("setgid %u", (unsigned)p->gid));
    if (setresuid(p->uid, p->uid, p->uid) < 0) step(fail("setuid %u", (unsigned)p->uid));
  }
  step(capset_sets(p->effective, p->permitted, p->inheritable));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) step(fail("clear keep-capabilities"));
  for (int cap = 0; cap < 64; cap++)
    if ((p->ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
      step(fail("raise ambient capability %d", cap));
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) step(fail("set no_new_privs"));

  const char *cwd = p->cwd ? p->cwd : "/";
  if (chdir(cwd) < 0) step(fail("chdir %s", cwd));
  if (p->seccomp && p->no_new_privs) step(seccomp_install(p->seccomp));
  sync_die(exec_program(p->argv, p->env));
}
