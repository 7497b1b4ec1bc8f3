#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "monitor.h"
#include "proto.h"

/* One report line: the message's name from proto.h in lower case, then its
 * fields (docs/shim.md); parsed by src/runtime/shim-protocol.ts. */
static void report_line(int type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_line(int type, const char *fmt, ...) {
  if (M.report_fd < 0) return;
  char line[ERR_MAX + 64];
  const char *name = proto_name(type);
  size_t n = 0;
  for (; name[n] && n < 32; n++) line[n] = (char)(name[n] | 0x20);
  va_list ap;
  va_start(ap, fmt);
  int f = vsnprintf(line + n, sizeof line - 1 - n, fmt, ap);
  va_end(ap);
  if (f < 0) return;
  n += (size_t)f;
  if (n > sizeof line - 2) n = sizeof line - 2;
  for (size_t i = 0; i < n; i++)
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' '; /* one line, whatever the message held */
  line[n++] = '\n';
  write_all(M.report_fd, line, n);
}

void report_ready(void) { report_line(PROTO_READY, "%s", ""); }

void report_started(pid_t pid, unsigned long long start) {
  report_line(PROTO_STARTED, " %d %llu", (int)pid, start);
}

void report_failed(int code, const char *message) { report_line(PROTO_FAILED, " %d %s", code, message); }

/* The reader sees EOF once the report is over; the fd stays taken. */
void report_close(void) {
  if (M.report_fd < 0) return;
  int n = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (n >= 0) {
    dup2(n, M.report_fd);
    close(n);
  }
  M.report_fd = -1;
}

static int state_file(char *path, size_t cap, const char *name) {
  if (!M.o.state_dir) return -1;
  return snprintf(path, cap, "%s/%s", M.o.state_dir, name) < (int)cap ? 0 : -1;
}

int write_runtime(void) {
  char path[PATH_MAX], at[40], json[256];
  if (state_file(path, sizeof path, "runtime.json") < 0) return 0;
  unsigned long long self_start = 0;
  pid_starttime(getpid(), &self_start);
  rfc3339nano(at, sizeof at);
  int n = snprintf(json, sizeof json,
                   "{\"monitorPid\":%d,\"monitorStartTime\":%llu,\"pid\":%d,\"pidStartTime\":%llu,"
                   "\"startedAt\":\"%s\"}\n",
                   (int)getpid(), self_start, (int)M.pid1, M.pid1_start, at);
  return atomic_write(path, json, (size_t)n, 0);
}

/* exit.json is the one record that must be written whatever the disk holds
 * by then (a container that filled it is the usual reason to stop it), so
 * its blocks are taken at start: EXIT_RESERVE bytes of exit.json.reserve,
 * later overwritten in place and renamed. No JSON here is longer. */
#define EXIT_JSON_MAX (3 * ERR_MAX)
#define EXIT_RESERVE 4096
_Static_assert(EXIT_JSON_MAX <= EXIT_RESERVE, "exit.json must fit the reserve");
static int reserve_fd = -1;

void exit_reserve(void) {
  char path[PATH_MAX];
  if (state_file(path, sizeof path, "exit.json.reserve") < 0) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fail("open %s", path), monitor_warn();
    return;
  }
  int rc = fallocate(fd, 0, 0, EXIT_RESERVE);
  if (rc < 0 && errno == EOPNOTSUPP) {
    /* No fallocate here: written zeros take the blocks as well. */
    static const char zeros[EXIT_RESERVE];
    rc = write_all(fd, zeros, sizeof zeros);
  }
  if (rc < 0) {
    fail("reserve %d bytes in %s", EXIT_RESERVE, path), monitor_warn();
    close(fd);
    unlink(path);
    return;
  }
  reserve_fd = fd;
}

/* Into the reserved blocks: pwrite, cut to length, fsync, rename. */
static int write_reserved(const char *path, const char *json, size_t len) {
  char reserve[PATH_MAX];
  int fd = reserve_fd;
  reserve_fd = -1;
  if (state_file(reserve, sizeof reserve, "exit.json.reserve") < 0) return close(fd), -1;
  size_t off = 0;
  while (off < len) {
    ssize_t w = pwrite(fd, json + off, len - off, (off_t)off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  int ok = off == len && ftruncate(fd, (off_t)len) == 0 && fsync(fd) == 0;
  if (!ok) fail("write %s", reserve);
  close(fd);
  if (ok && rename(reserve, path) < 0) ok = 0, fail("rename %s to %s", reserve, path);
  if (!ok) unlink(reserve);
  return ok ? 0 : -1;
}

int write_exit(pid_t pid, int code, int sig, const char *error) {
  char path[PATH_MAX], at[40], sigs[16], err[2 * ERR_MAX], json[EXIT_JSON_MAX];
  if (state_file(path, sizeof path, "exit.json") < 0) return 0;
  rfc3339nano(at, sizeof at);
  if (sig) snprintf(sigs, sizeof sigs, "%d", sig);
  else snprintf(sigs, sizeof sigs, "null");
  if (error) json_quote(err, sizeof err, error);
  else snprintf(err, sizeof err, "null");
  int n = snprintf(json, sizeof json,
                   "{\"pid\":%d,\"exitCode\":%d,\"signal\":%s,\"finishedAt\":\"%s\",\"error\":%s}\n",
                   (int)pid, code, sigs, at, err);
  if ((size_t)n >= sizeof json) n = (int)sizeof json - 1; /* cannot happen: err is bounded */
  if (reserve_fd >= 0 && write_reserved(path, json, (size_t)n) == 0) return 0;
  return atomic_write(path, json, (size_t)n, 1);
}

void write_notify(void) {
  if (M.o.exit_notify && atomic_write(M.o.exit_notify, "", 0, 0) < 0) monitor_warn();
}

/* The last error on stderr (corrald points it at a file); best effort. */
void monitor_warn(void) {
  dprintf(2, "corral-shim%s%s: %s\n", M.o.id ? " " : "", M.o.id ? M.o.id : "", errmsg());
}
