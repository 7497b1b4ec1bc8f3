#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "log.h"
#include "monitor.h"

/* 16 KiB: also the longest line the log keeps in one record. */
static char out_buf[16384];

static void remember_err_line(const char *buf, size_t len) {
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
  const char *start = buf + len;
  while (start > buf && start[-1] != '\n') start--;
  size_t n = (size_t)(buf + len - start);
  if (n == 0) return;
  if (n >= sizeof M.last_err) n = sizeof M.last_err - 1;
  memcpy(M.last_err, start, n);
  M.last_err[n] = 0;
}

void output_read(int *fd, int stream) {
  ssize_t n = read(*fd, out_buf, sizeof out_buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) { /* EOF; EIO on a pty master once no slave is left */
    close(*fd);
    *fd = -1;
    return;
  }
  int err = stream == 2;
  log_chunk(&M.log_fd, err ? "stderr" : "stdout", out_buf, (size_t)n);
  attach_broadcast(err ? F_STDERR : F_STDOUT, out_buf, (size_t)n);
  /* unshare's own complaint, if it fails, is the best failure message. */
  if (!M.started && (err || M.o.tty)) remember_err_line(out_buf, (size_t)n);
}
