#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "monitor.h"
#include "util.h"

/* Records are gathered into one writev (up to IOV_MAX/3 per call); with
 * O_APPEND each call lands whole even if a reader tails the file. */
#define BATCH 300

/* More rotated files than this is a mistake of the caller's. */
#define MAX_FILES 1000

static struct {
  const char *path;
  unsigned long max_size; /* 0: unbounded */
  unsigned long max_files;
  unsigned long size; /* bytes in the live file, as far as we wrote them */
  int warned;         /* a failing rotation is said once, not per record */
} L = {.max_files = 1};

int log_limits(const char *max_size, const char *max_files) {
  if (max_size && (parse_ulong(max_size, ULONG_MAX, &L.max_size) < 0 || L.max_size == 0))
    return failx("monitor: --log-max-size needs a positive number of bytes, not \"%s\"", max_size);
  if (max_files && (parse_ulong(max_files, MAX_FILES, &L.max_files) < 0 || L.max_files == 0))
    return failx("monitor: --log-max-files needs a number from 1 to %d, not \"%s\"", MAX_FILES, max_files);
  return 0;
}

int log_open(const char *path) {
  L.path = path;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return fail("open %s", path);
  struct stat st;
  L.size = fstat(fd, &st) == 0 ? (unsigned long)st.st_size : 0; /* a restart appends */
  return fd;
}

static void warn_once(void) {
  if (!L.warned) monitor_warn();
  L.warned = 1;
}

static int rotated_name(char *out, size_t cap, unsigned long n) {
  int w = n ? snprintf(out, cap, "%s.%lu", L.path, n) : snprintf(out, cap, "%s", L.path);
  return w > 0 && (size_t)w < cap ? 0 : -1;
}

/* FILE.(N-2) -> FILE.(N-1), ..., FILE -> FILE.1 (the oldest is replaced),
 * then a new FILE. Readers that follow notice the new inode (or, after a
 * truncation, the smaller size). */
static void rotate(int *fd) {
  L.size = 0;
  int moved = 0; /* the live file is FILE.1 now */
  char from[PATH_MAX], to[PATH_MAX];
  for (unsigned long n = L.max_files - 1; n >= 1; n--) {
    if (rotated_name(from, sizeof from, n - 1) < 0 || rotated_name(to, sizeof to, n) < 0) {
      errno = ENAMETOOLONG;
      fail("rotate %s", L.path), warn_once();
      break;
    }
    if (rename(from, to) < 0 && errno != ENOENT) {
      fail("rename %s to %s", from, to), warn_once();
      continue;
    }
    moved = n == 1;
  }
  if (!moved) {
    /* Nothing is kept besides the live file (max-files 1), or it could not
     * be renamed: start it over, so the cap holds whatever happens. */
    if (ftruncate(*fd, 0) < 0) fail("truncate %s", L.path), warn_once();
    return;
  }
  close(*fd);
  *fd = log_open(L.path);
  if (*fd < 0) warn_once();
}

/* Returns the bytes written; a full disk must not stop the container's
 * output, so what cannot be written is dropped. */
static size_t flush(int fd, struct iovec *iov, int *n) {
  struct iovec *v = iov;
  int left = *n;
  size_t done = 0;
  while (left > 0) {
    ssize_t w = writev(fd, v, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      break;
    }
    done += (size_t)w;
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
  return done;
}

void log_chunk(int *fd, const char *stream, const char *buf, size_t len) {
  if (!L.path || len == 0) return;
  if (*fd < 0 && (*fd = log_open(L.path)) < 0) return;
  char ts[40], full[64], partial[64];
  rfc3339nano(ts, sizeof ts);
  int fl = snprintf(full, sizeof full, "%s %s F ", ts, stream);
  int pl = snprintf(partial, sizeof partial, "%s %s P ", ts, stream);
  static char nl[] = "\n";
  struct iovec iov[BATCH * 3];
  int n = 0;
  size_t queued = 0; /* bytes in iov */
  while (len > 0) {
    const char *eol = memchr(buf, '\n', len);
    size_t line = eol ? (size_t)(eol - buf) : len;
    size_t record = (size_t)(eol ? fl : pl) + line + 1;
    /* Rotate before a record that would pass the cap; a record never
     * spans files, so one longer than the cap fills a file alone. */
    if (L.max_size && L.size + queued > 0 && L.size + queued + record > L.max_size) {
      L.size += flush(*fd, iov, &n);
      queued = 0;
      rotate(fd);
      if (*fd < 0) return;
    }
    iov[n++] = eol ? (struct iovec){full, (size_t)fl} : (struct iovec){partial, (size_t)pl};
    iov[n++] = (struct iovec){(void *)buf, line};
    iov[n++] = (struct iovec){nl, 1};
    queued += record;
    if (n == BATCH * 3) L.size += flush(*fd, iov, &n), queued = 0;
    size_t used = eol ? line + 1 : line;
    buf += used;
    len -= used;
  }
  L.size += flush(*fd, iov, &n);
}
