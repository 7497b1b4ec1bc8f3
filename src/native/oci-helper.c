/* `corral-shim oci-create|oci-exec [options] -- ARGV` (docs/oci.md): the
 * helper side of the handshake. It makes the sync socketpair, forks C1 (which
 * joins the cgroups, then runs the stage), writes the user namespace's maps
 * when asked, and reports on fd 3 (a pipe from corral-oci) one line:
 * `pid N` once the container process is set up (create: waiting on the exec
 * fifo; exec: exec'd), or `error MESSAGE`. With oci-exec without --detach,
 * it then waits for the process (a subreaper: it is re-parented here) and
 * exits with its status, as `runc exec` does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci.h"
#include "proto.h"
#include "sync.h"
#include "util.h"

static int report_fd = -1;

static int report(const char *fmt, const char *arg, long n) {
  char line[ERR_MAX + 64];
  int len = arg ? snprintf(line, sizeof line, fmt, arg) : snprintf(line, sizeof line, fmt, n);
  if (len >= (int)sizeof line) len = (int)sizeof line - 1, line[len - 1] = '\n';
  return write_all(report_fd, line, (size_t)len);
}

static int die(void) {
  report("error %s\n", errmsg(), 0);
  return 1;
}

static int connect_console(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail("socket");
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) return close(s), failx("console socket %s: path too long", path);
  strcpy(a.sun_path, path);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) return close(s), fail("connect to console socket %s", path);
  return s;
}

/* The first line of a map: the host id that id 0 maps to, or 0 without a map. */
static unsigned long map_root(const char *map) {
  unsigned long inside, outside, count;
  if (!map || sscanf(map, "%lu %lu %lu", &inside, &outside, &count) != 3 || inside != 0) return 0;
  return outside;
}

/* exec.fifo, owned by the container's root (who opens it, inside a user
 * namespace maybe), held as an O_PATH fd the container process reopens. */
static int fifo_make(struct oci_opts *o) {
  if (mkfifo(o->exec_fifo, 0600) < 0) return fail("mkfifo %s", o->exec_fifo);
  if (chown(o->exec_fifo, (uid_t)map_root(o->uid_map), (gid_t)map_root(o->gid_map)) < 0) return fail("chown %s", o->exec_fifo);
  int fd = open(o->exec_fifo, O_PATH | O_CLOEXEC);
  if (fd < 0) return fail("open %s", o->exec_fifo);
  /* Above the sync socket's fd 3, which C1 dup2s over whatever is there. */
  o->exec_fifo_fd = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return o->exec_fifo_fd < 0 ? fail("dup %s", o->exec_fifo) : 0;
}

static int run(int argc, char **argv, int exec) {
  static struct oci_opts o;
  /* fd 3 is the report pipe; the stages use 3 for the sync socket. */
  report_fd = fcntl(3, F_DUPFD_CLOEXEC, 10);
  if (report_fd < 0) {
    fprintf(stderr, "corral-shim %s: fd 3 must be the report pipe\n", argv[1]);
    return 2;
  }
  close(3);
  if (oci_parse(argc, argv, &o, exec) < 0) return die();
  if (o.console_socket) {
    o.p.console = connect_console(o.console_socket);
    if (o.p.console >= 0 && o.p.console < 10) {
      int hi = fcntl(o.p.console, F_DUPFD_CLOEXEC, 10);
      close(o.p.console);
      o.p.console = hi;
    }
    if (o.p.console < 0) return die();
    if (!o.p.tty) return failx("--console-socket needs --tty"), die();
  }
  if (!exec && fifo_make(&o) < 0) return die();
  if (exec && !o.detach && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return fail("become a subreaper"), die();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail("socketpair"), die();
  pid_t c1 = fork();
  if (c1 < 0) return fail("fork"), die();
  if (c1 == 0) {
    close(report_fd);
    char me[24];
    snprintf(me, sizeof me, "%d", (int)getpid());
    if (dup2(sv[1], SYNC_FD) < 0) _exit(1);
    sync_init();
    for (size_t i = 0; i < o.ncgroup_procs; i++)
      if (write_file(o.cgroup_procs[i], me) < 0) sync_die(1);
    if (exec) oci_stage_exec(&o);
    oci_stage_create(&o);
  }
  close(sv[1]);
  if (o.p.console >= 0) close(o.p.console);
  pid_t pid = 0;
  int ok = 0, status;
  char err[PROTO_MAX_PAYLOAD + 2] = "";
  for (;;) {
    struct proto_msg m;
    int r = proto_recv(sv[0], &m);
    if (r <= 0) {
      if (r < 0) snprintf(err, sizeof err, "%s", errmsg());
      ok = exec && pid > 0 && !err[0];
      break;
    }
    if (m.fd >= 0) close(m.fd);
    int32_t v;
    if (m.type == PROTO_PID && proto_i32(&m, 0, &v) == 0) {
      pid = (pid_t)v;
      continue;
    }
    if (m.type == PROTO_IDMAP_REQUEST) {
      int32_t who;
      if (proto_i32(&m, 0, &who) < 0 || proto_idmap_write(who, o.uid_map, o.gid_map) < 0)
        proto_send_text(sv[0], PROTO_ERROR, errmsg());
      else
        proto_send(sv[0], PROTO_IDMAP_DONE, NULL, 0, -1);
      continue;
    }
    if (m.type == PROTO_READY && !exec) {
      ok = pid > 0;
      break;
    }
    if (m.type == PROTO_ERROR) {
      snprintf(err, sizeof err, "%s", (const char *)m.payload);
      break;
    }
    snprintf(err, sizeof err, "unexpected %s from the stage", proto_name(m.type) ? proto_name(m.type) : "message");
    break;
  }
  close(sv[0]);
  while (waitpid(c1, &status, 0) < 0 && errno == EINTR) {}
  if (!ok) {
    if (pid > 0) kill(pid, SIGKILL);
    if (!err[0]) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        snprintf(err, sizeof err, "the container process died during setup");
      else
        snprintf(err, sizeof err, "the set-up stage ended (status %d) without naming a process", status);
    }
    report("error %s\n", err, 0);
    return 1;
  }
  report("pid %ld\n", NULL, (long)pid);
  close(report_fd);
  if (!exec || o.detach) return 0;
  /* runc exec in the foreground: the exit status is the process's. */
  for (;;) {
    pid_t w = waitpid(-1, &status, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return 255;
    if (w != pid) continue;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

int oci_create_main(int argc, char **argv) { return run(argc, argv, 0); }
int oci_exec_main(int argc, char **argv) { return run(argc, argv, 1); }
