#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "util.h"

/* Records are gathered into one writev (up to IOV_MAX/3 per call); with
 * O_APPEND each call lands whole even if a reader tails the file. */
#define BATCH 300

static void flush(int fd, struct iovec *iov, int *n) {
  struct iovec *v = iov;
  int left = *n;
  while (left > 0) {
    ssize_t w = writev(fd, v, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      break; /* a full disk must not stop the container's output */
    }
    while (left > 0 && (size_t)w >= v->iov_len) {
      w -= (ssize_t)v->iov_len;
      v++;
      left--;
    }
    if (left > 0) {
      v->iov_base = (char *)v->iov_base + w;
      v->iov_len -= (size_t)w;
    }
  }
  *n = 0;
}

void log_chunk(int fd, const char *stream, const char *buf, size_t len) {
  if (fd < 0 || len == 0) return;
  char ts[40], full[64], partial[64];
  rfc3339nano(ts, sizeof ts);
  int fl = snprintf(full, sizeof full, "%s %s F ", ts, stream);
  int pl = snprintf(partial, sizeof partial, "%s %s P ", ts, stream);
  static char nl[] = "\n";
  struct iovec iov[BATCH * 3];
  int n = 0;
  while (len > 0) {
    const char *eol = memchr(buf, '\n', len);
    size_t line = eol ? (size_t)(eol - buf) : len;
    iov[n++] = eol ? (struct iovec){full, (size_t)fl} : (struct iovec){partial, (size_t)pl};
    iov[n++] = (struct iovec){(void *)buf, line};
    iov[n++] = (struct iovec){nl, 1};
    if (n == BATCH * 3) flush(fd, iov, &n);
    size_t used = eol ? line + 1 : line;
    buf += used;
    len -= used;
  }
  flush(fd, iov, &n);
}
