/* The container log in CRI format, as kubelet and podman's k8s-file write it:
 * "2026-11-21T06:30:00.123456789Z stdout F text", with Docker json-file's
 * size cap: past max-size the live file is renamed FILE.1 (FILE.1 to FILE.2,
 * ...) and a new one started, keeping max-files files in all. */
#ifndef CORRAL_LOG_H
#define CORRAL_LOG_H

#include <stddef.h>

/* --log-max-size BYTES (absent: unbounded), --log-max-files N (default 1:
 * the live file is truncated instead of renamed). Either may be NULL. */
int log_limits(const char *max_size, const char *max_files);

/* Open FILE for appending (O_APPEND, created 0640); returns the fd or -1. */
int log_open(const char *path);

/* One output chunk: a record per line ("F"), the unterminated rest "P".
 * *fd changes when the file is rotated (-1 if the new one cannot be made;
 * it is tried again at the next chunk). */
void log_chunk(int *fd, const char *stream, const char *buf, size_t len);

#endif
