#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char err_buf[ERR_MAX];

/* Messages travel as one line on the sync fd, so no newline may survive. */
static void one_line(char *s) {
  for (; *s; s++)
    if (*s == '\n' || *s == '\r') *s = ' ';
}

int fail(const char *fmt, ...) {
  int e = errno;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err_buf, sizeof err_buf, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof err_buf)
    snprintf(err_buf + n, sizeof err_buf - (size_t)n, ": %s", strerror(e));
  one_line(err_buf);
  errno = e;
  return -1;
}

int failx(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err_buf, sizeof err_buf, fmt, ap);
  va_end(ap);
  one_line(err_buf);
  return -1;
}

const char *errmsg(void) { return err_buf[0] ? err_buf : "unknown error"; }

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int write_file(const char *path, const char *value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail("open %s", path);
  int rc = write_all(fd, value, strlen(value));
  close(fd);
  return rc < 0 ? fail("write %s to %s", value, path) : 0;
}

int atomic_write(const char *path, const char *data, size_t len, int durable) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return fail("write %s", path);
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("open %s", tmp);
  if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
    fail("write %s", tmp);
    close(fd);
    unlink(tmp);
    return -1;
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    fail("rename %s to %s", tmp, path);
    unlink(tmp);
    return -1;
  }
  return 0;
}

int starttime_at(int procdir, unsigned long long *out) {
  char buf[1024];
  int fd = openat(procdir, "stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("open stat");
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return fail("read stat");
  buf[n] = 0;
  /* comm (field 2) may hold spaces and ')', so count from the last ')'. */
  char *p = strrchr(buf, ')');
  if (!p) return failx("parse stat: no ')'");
  p++;
  for (int field = 3; field < 22; field++) {
    p = strchr(p + 1, ' ');
    if (!p) return failx("parse stat: too few fields");
  }
  char *end;
  errno = 0;
  unsigned long long v = strtoull(p + 1, &end, 10);
  if (errno || end == p + 1) return failx("parse stat: bad starttime");
  *out = v;
  return 0;
}

int pid_starttime(pid_t pid, unsigned long long *out) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%d", (int)pid);
  int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return fail("open %s", path);
  int r = starttime_at(dir, out);
  close(dir);
  return r;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm); avoids
 * gmtime_r, which drags glibc's time-zone loading into the monitor. */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d) {
  z += 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (long long)yoe + era * 400 + (*m <= 2);
}

void rfc3339nano(char *out, size_t cap) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400;
  long long y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  snprintf(out, cap, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09ldZ", y, m, d,
           secs / 3600, secs / 60 % 60, secs % 60, ts.tv_nsec);
}

void str_copy(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (cap == 0) return;
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = 0;
}

int parse_ulong(const char *s, unsigned long max, unsigned long *out) {
  if (!s || *s < '0' || *s > '9') return -1;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v > max) return -1;
  *out = v;
  return 0;
}

void json_quote(char *out, size_t cap, const char *s) {
  size_t o = 0;
  if (cap < 3) return;
  out[o++] = '"';
  for (; *s && o + 8 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c < 0x20) {
      o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    } else {
      out[o++] = (char)c;
    }
  }
  out[o++] = '"';
  out[o] = 0;
}

char *absolute(const char *path) {
  if (!path || path[0] == '/') return (char *)path;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return (char *)path;
  size_t n = strlen(cwd) + strlen(path) + 2;
  char *p = malloc(n);
  if (!p) return (char *)path;
  snprintf(p, n, "%s/%s", cwd, path);
  return p;
}

void ensure_stdio(void) {
  for (int fd = 0; fd < 3; fd++) {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    int n = open("/dev/null", O_RDWR);
    if (n >= 0 && n != fd) {
      dup2(n, fd);
      close(n);
    }
  }
}
