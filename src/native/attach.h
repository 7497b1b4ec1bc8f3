/* Attach clients and the frame protocol of docs/shim.md: 1 byte type,
 * 4 bytes big-endian length, payload. */
#ifndef CORRAL_ATTACH_H
#define CORRAL_ATTACH_H

#include <poll.h>
#include <stddef.h>

enum frame {
  F_STDIN = 1,
  F_STDOUT = 2,
  F_STDERR = 3,
  F_RESIZE = 4,
  F_STDIN_EOF = 5,
  F_EXIT = 6,
  F_ERROR = 7,
  F_SIGNAL = 8,
};

#define MAX_CLIENTS 32
#define MAX_PAYLOAD (1u << 20)

int attach_listen(const char *path);
/* A client over fds in/out (stdio: 0/1, socket: both the same). */
int attach_add(int in, int out, int is_socket);
/* Accept one connection; returns 1 if a client was added. */
int attach_accept(int listen_fd);
int attach_count(void);
/* Poll entries for client input; returns how many were added. */
int attach_pollfds(struct pollfd *pf);
/* Handle the revents of the entries attach_pollfds added. */
void attach_handle(const struct pollfd *pf, int n);
void attach_broadcast(int type, const void *buf, size_t len);
/* Accept one connection and tell it the end at once (the container is gone). */
void attach_refuse(int listen_fd, const char *error, int code, int sig);
/* The end: ERROR (if error) and EXIT to every client, then close them. */
void attach_exit(int listen_fd, const char *error, int code, int sig);

#endif
