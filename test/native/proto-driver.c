/* Drives the shim protocol's C primitives (src/native/proto.c) across a real
 * SOCK_SEQPACKET socketpair and a fork, the way the monitor and a stage use
 * them, and prints what the parent (the monitor's side) saw, one line per
 * event, for test/integration/shim.test.ts. Usage: proto-driver SCENARIO. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"

static int sv[2]; /* sv[0]: monitor side, sv[1]: stage side */

static void die(const char *what) {
  printf("driver error: %s: %s\n", what, errmsg());
  exit(1);
}

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

/* Receive one message and print it: "NAME payload" (i32 for PID/IDMAP_REQUEST). */
static int show(struct proto_msg *m) {
  int r = proto_recv(sv[0], m);
  if (r < 0) {
    printf("recv error (%s): %s\n", errno == EPROTO ? "EPROTO" : strerror(errno), errmsg());
    return r;
  }
  if (r == 0) {
    printf("EOF\n");
    return 0;
  }
  int32_t v;
  if ((m->type == PROTO_PID || m->type == PROTO_IDMAP_REQUEST) && proto_i32(m, 0, &v) == 0)
    printf("%s %s\n", proto_name(m->type), v == getpid() ? "self" : "child");
  else printf("%s %s\n", proto_name(m->type) ? proto_name(m->type) : "?", (const char *)m->payload);
  return r;
}

static pid_t stage(void (*fn)(void)) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(sv[0]);
    fn();
    _exit(0);
  }
  close(sv[1]);
  return pid;
}

static int wait_for(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) < 0) die("waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A stage that names its process, fails a step, then execs: the exec closes
 * its O_CLOEXEC end, which the monitor reads as EOF. */
static void pid_error_exec(void) {
  if (proto_send_i32(sv[1], PROTO_PID, (int32_t)getpid()) < 0) die("send PID");
  failx("mount proc on /rootfs/proc: Permission denied");
  if (proto_send_text(sv[1], PROTO_ERROR, errmsg()) < 0) die("send ERROR");
  execl("/bin/true", "true", (char *)NULL);
  die("exec /bin/true");
}

/* A stage in a new user namespace asks for its maps and checks they hold;
 * its second request fails (a map is written once) with the monitor's error. */
static void idmap_stage(void) {
  if (unshare(CLONE_NEWUSER) < 0) die("unshare user namespace");
  uid_t before = getuid();
  if (proto_idmap_request(sv[1], getpid()) < 0) die("idmap request");
  /* Mapped: becoming the namespace's root (host uid 100000) is allowed now. */
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die("setresuid 0 in the user namespace");
  uid_t after = getuid();
  char map[128] = "";
  int fd = open("/proc/self/uid_map", O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, map, sizeof map - 1) : -1;
  map[n > 0 ? n : 0] = 0;
  for (char *p = map; *p; p++) if (*p == '\n') *p = ';';
  char text[256];
  snprintf(text, sizeof text, "uid %u then %u, uid_map %s", (unsigned)before, (unsigned)after, map);
  proto_send_text(sv[1], PROTO_ERROR, text); /* just a text message back, for the transcript */
  if (proto_idmap_request(sv[1], getpid()) == 0) die("second idmap request succeeded");
  snprintf(text, sizeof text, "second request: %s", errmsg());
  proto_send_text(sv[1], PROTO_ERROR, text);
}

static void serve_idmap(struct proto_msg *m) {
  int32_t pid;
  if (proto_i32(m, 0, &pid) < 0) die("IDMAP_REQUEST pid");
  /* Root maps the namespace's 0 to an unused host id, as a user-namespaced
   * container would be. Setgroups stays allowed: root writes the maps. */
  if (proto_idmap_write((pid_t)pid, "0 100000 65536\n", "0 100000 65536\n") == 0)
    proto_send(sv[0], PROTO_IDMAP_DONE, NULL, 0, -1);
  else proto_send_text(sv[0], PROTO_ERROR, errmsg());
}

/* A stage passes a pipe's read end, then writes into the pipe. */
static void fd_stage(void) {
  int p[2];
  if (pipe(p) < 0) die("pipe");
  if (proto_send(sv[1], PROTO_FD, "test-pipe", 9, p[0]) < 0) die("send FD");
  close(p[0]);
  if (write(p[1], "through the fd", 14) != 14) die("write pipe");
  close(p[1]);
  /* A descriptor on a message that carries none is refused (and closed). */
  int32_t v = 1;
  if (proto_send(sv[1], PROTO_PID, &v, sizeof v, 1) < 0) die("send PID with fd");
  /* A header that lies about its length. */
  unsigned char bad[7] = {PROTO_ERROR, 0, 0, 0, 9, 'h', 'i'};
  if (send(sv[1], bad, sizeof bad, 0) < 0) die("send bad");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2) return 2;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
  struct proto_msg m;
  if (strcmp(argv[1], "pid-error-exec") == 0) {
    /* As C1's dup2 does: the stage's end survives exec unless marked. */
    if (fcntl(sv[1], F_SETFD, FD_CLOEXEC) < 0) die("cloexec");
    pid_t pid = stage(pid_error_exec);
    while (show(&m) > 0) {}
    printf("stage exit %d\n", wait_for(pid));
  } else if (strcmp(argv[1], "idmap") == 0) {
    pid_t pid = stage(idmap_stage);
    while (show(&m) > 0)
      if (m.type == PROTO_IDMAP_REQUEST) serve_idmap(&m);
    printf("stage exit %d\n", wait_for(pid));
  } else if (strcmp(argv[1], "fd") == 0) {
    int before = count_fds();
    pid_t pid = stage(fd_stage);
    int r;
    while ((r = show(&m)) != 0) {
      if (r > 0 && m.type == PROTO_FD) {
        char buf[64] = "";
        int flags = fcntl(m.fd, F_GETFD);
        wait_for(pid); /* the writer is done: read to EOF */
        ssize_t n = read(m.fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        printf("read \"%s\" from it (%s)\n", buf, flags & FD_CLOEXEC ? "cloexec" : "inheritable");
        close(m.fd);
        pid = 0;
      }
    }
    if (pid) wait_for(pid);
    printf("fds leaked: %d\n", count_fds() - before + 1); /* +1: sv[1] was ours before the fork */
  } else {
    return 2;
  }
  return 0;
}
