/* Small helpers shared by every role: error messages, whole writes, atomic
 * files, process identity (/proc/PID/stat starttime) and timestamps. */
#ifndef CORRAL_UTIL_H
#define CORRAL_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define ERR_MAX 1024

/* Set the last error to "FMT: strerror(errno)" (fail) or "FMT" (failx) and
 * return -1, so a step can `return fail("mount proc on %s", path);`. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *errmsg(void);

int write_all(int fd, const void *buf, size_t len);

/* Write PATH through PATH.tmp, fsync and rename, so readers never see half. */
/* Write a short value to an existing file (procfs, cgroupfs); the error names path and value. */
int write_file(const char *path, const char *value);
/* tmp + (fsync when durable) + rename: readers see the old or the new content, never a torn one.
 * Durability matters for records that outlive the processes they describe (exit.json); a
 * record of live kernel state (runtime.json) is meaningless after a power loss anyway. */
int atomic_write(const char *path, const char *data, size_t len, int durable);

/* Field 22 of /proc/PID/stat, read through an open /proc/PID directory. */
int starttime_at(int procdir, unsigned long long *out);
int pid_starttime(pid_t pid, unsigned long long *out);

/* UTC "2026-11-21T06:30:00.123456789Z" into out (at least 32 bytes). */
void rfc3339nano(char *out, size_t cap);

/* strlcpy: copy what fits, always terminated. */
void str_copy(char *dst, size_t cap, const char *src);

/* Decimal without sign, at most max. */
int parse_ulong(const char *s, unsigned long max, unsigned long *out);

/* JSON string literal (with quotes) for s, truncated to fit cap. */
void json_quote(char *out, size_t cap, const char *s);

/* An absolute copy of path (relative to the cwd at call time); NULL stays NULL. */
char *absolute(const char *path);

/* Make fds 0-2 exist, so later pipes and sockets never land on them. */
void ensure_stdio(void);

#endif
