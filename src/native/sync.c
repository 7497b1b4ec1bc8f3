#define _GNU_SOURCE
#include "sync.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"

static int sync_fd = -1;

void sync_init(void) {
  int flags = fcntl(SYNC_FD, F_GETFD);
  if (flags < 0) return;
  fcntl(SYNC_FD, F_SETFD, flags | FD_CLOEXEC);
  sync_fd = SYNC_FD;
}

int sync_pid(pid_t pid) {
  if (sync_fd < 0) {
    char line[32];
    int n = snprintf(line, sizeof line, "pid %d\n", (int)pid);
    return write_all(1, line, (size_t)n);
  }
  return proto_send_i32(sync_fd, PROTO_PID, (int32_t)pid);
}

void sync_die(int code) {
  if (sync_fd >= 0) {
    proto_send_text(sync_fd, PROTO_ERROR, errmsg());
  } else {
    char line[ERR_MAX + 32];
    int n = snprintf(line, sizeof line, "corral-shim: %s\n", errmsg());
    write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  }
  _exit(code);
}

void sync_close(void) {
  if (sync_fd >= 0) close(sync_fd);
  sync_fd = -1;
}

int sync_idmap(pid_t pid) {
  if (sync_fd < 0) return failx("idmap request for pid %d: no sync socket (fd %d)", (int)pid, SYNC_FD);
  return proto_idmap_request(sync_fd, pid);
}

int sync_send_fd(int fd, const char *name) {
  if (sync_fd < 0) return failx("pass %s fd: no sync socket (fd %d)", name, SYNC_FD);
  return proto_send(sync_fd, PROTO_FD, name, strlen(name), fd);
}

int sync_wait_run(void) {
  if (sync_fd < 0) return failx("wait for run: no sync socket (fd %d)", SYNC_FD);
  return proto_ask(sync_fd, PROTO_READY, NULL, 0, PROTO_RUN);
}
