#define _GNU_SOURCE
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

int write_exit(pid_t pid, int code, int sig, const char *error) {
  char path[PATH_MAX], at[40], sigs[16], err[2 * ERR_MAX], json[3 * ERR_MAX];
  if (state_file(path, sizeof path, "exit.json") < 0) return 0;
  rfc3339nano(at, sizeof at);
  if (sig) snprintf(sigs, sizeof sigs, "%d", sig);
  else snprintf(sigs, sizeof sigs, "null");
  if (error) json_quote(err, sizeof err, error);
  else snprintf(err, sizeof err, "null");
  int n = snprintf(json, sizeof json,
                   "{\"pid\":%d,\"exitCode\":%d,\"signal\":%s,\"finishedAt\":\"%s\",\"error\":%s}\n",
                   (int)pid, code, sigs, at, err);
  return atomic_write(path, json, (size_t)n, 1);
}

void write_notify(void) {
  if (M.o.exit_notify && atomic_write(M.o.exit_notify, "", 0, 0) < 0) monitor_warn();
}

/* The last error on stderr (corrald points it at a file); best effort. */
void monitor_warn(void) {
  dprintf(2, "corral-shim%s%s: %s\n", M.o.id ? " " : "", M.o.id ? M.o.id : "", errmsg());
}
