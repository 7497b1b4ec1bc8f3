/* The container log in CRI format, as kubelet and podman's k8s-file write it:
 * "2026-11-21T06:30:00.123456789Z stdout F text". */
#ifndef CORRAL_LOG_H
#define CORRAL_LOG_H

#include <stddef.h>

/* One output chunk: a record per line ("F"), the unterminated rest "P". */
void log_chunk(int fd, const char *stream, const char *buf, size_t len);

#endif
