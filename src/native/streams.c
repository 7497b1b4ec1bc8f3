#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <termios.h>
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

void stdin_close(void) {
  if (M.in_fd >= 0) close(M.in_fd);
  M.in_fd = -1;
  M.in_len = 0;
  M.in_close = 0;
}

void stdin_flush(void) {
  while (M.in_len > 0 && M.in_fd >= 0) {
    ssize_t w = write(M.in_fd, M.in_buf, M.in_len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w < 0) { /* the reader is gone (EPIPE): stdin is simply over */
      stdin_close();
      return;
    }
    memmove(M.in_buf, M.in_buf + w, M.in_len - (size_t)w);
    M.in_len -= (size_t)w;
  }
  if (M.in_close) stdin_close();
}

void stdin_push(const void *buf, size_t len) {
  if (M.in_fd < 0 || M.in_close) return;
  size_t room = sizeof M.in_buf - M.in_len;
  if (len > room) len = room; /* cannot happen: clients pause while it holds anything */
  memcpy(M.in_buf + M.in_len, buf, len);
  M.in_len += len;
  stdin_flush();
}

void stdin_eof(void) {
  if (M.in_fd < 0) return;
  if (M.o.tty) {
    /* A tty has no half-close; end-of-file is the VEOF character. */
    struct termios t;
    char c = tcgetattr(M.master, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
    stdin_push(&c, 1);
    return;
  }
  M.in_close = 1;
  stdin_flush();
}
