/* The container's stdin, shared by every attach client: the one place
 * that decides when a client's STDIN bytes may be written (docs/shim.md,
 * Attach protocol). The rule: one client's STDIN frame at a time. The
 * first client to write part of a frame owns stdin until the frame's last
 * byte is written; meanwhile every other client's STDIN and STDIN_EOF
 * wait. When the pipe (or pty) is full, everyone waits for POLLOUT. Bytes
 * that cannot be written now stay with their client, which is not read
 * again until they are (the monitor holds no stdin buffer of its own), so
 * nothing is dropped and frames never interleave. */
#ifndef CORRAL_STDIN_H
#define CORRAL_STDIN_H

#include <stddef.h>

/* Write up to LEN bytes of client ID's current STDIN frame; LAST: they end
 * the frame. Returns how many were taken (0: wait). Without a stdin (no
 * --stdin, or after STDIN_EOF or the reader went away) all are taken and
 * dropped, as the protocol says. */
size_t stdin_write(unsigned id, const void *buf, size_t len, int last);
/* Client ID's STDIN_EOF: 1 when done, 0 when it must wait (another
 * client's frame is in progress, or a tty's VEOF does not fit yet). */
int stdin_eof(unsigned id);
/* Client ID is gone or its input ended: a frame it left half-written no
 * longer holds stdin. */
void stdin_release(unsigned id);
/* The fd to poll for POLLOUT while a write waits for room, else -1. */
int stdin_pollfd(void);
/* Its poll revents: room again, or the reader is gone. */
void stdin_ready(short revents);

#endif
