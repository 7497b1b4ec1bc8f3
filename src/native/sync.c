#define _GNU_SOURCE
#include "sync.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "util.h"

static int sync_fd = -1;

void sync_init(void) {
  int flags = fcntl(SYNC_FD, F_GETFD);
  if (flags < 0) return;
  fcntl(SYNC_FD, F_SETFD, flags | FD_CLOEXEC);
  sync_fd = SYNC_FD;
}

int sync_pid(pid_t pid) {
  char line[32];
  int n = snprintf(line, sizeof line, "pid %d\n", (int)pid);
  if (sync_fd < 0) return write_all(1, line, (size_t)n);
  if (write_all(sync_fd, line, (size_t)n) < 0) return fail("write sync fd");
  return 0;
}

void sync_die(int code) {
  char line[ERR_MAX + 32];
  if (sync_fd >= 0) {
    int n = snprintf(line, sizeof line, "error %s\n", errmsg());
    write_all(sync_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  } else {
    int n = snprintf(line, sizeof line, "corral-shim: %s\n", errmsg());
    write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  }
  _exit(code);
}

void sync_close(void) {
  if (sync_fd >= 0) close(sync_fd);
  sync_fd = -1;
}
