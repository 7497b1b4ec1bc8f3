#define _GNU_SOURCE
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "monitor.h"
#include "stdin.h"
#include "util.h"

/* A slow socket client may hold the container's output this long before it
 * is dropped; the stdio client (the CLI's exec session) is waited for. */
#define SEND_TIMEOUT_MS 5000

/* One read from a client. */
#define READ_BUF 4096

struct client {
  unsigned id; /* who it is to stdin.c (slots move when a client is dropped) */
  int in, out, sock;
  int in_eof; /* input ended; a stdio client still gets output */
  uint8_t hdr[5], hlen; /* frame header being read */
  uint8_t type;
  uint32_t left;        /* payload bytes still to come */
  uint8_t small[4], slen;
  /* Read but not yet used: only while stdin.c makes a STDIN frame wait.
   * The client is not read again until they are used. */
  uint8_t buf[READ_BUF];
  size_t off, len;
};

static struct client clients[MAX_CLIENTS];
static int nclients;
static unsigned last_id;

int attach_listen(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int dir = -1;
  /* sun_path holds 107 bytes; state dirs can be deeper, so bind through
   * /proc/self/fd/DIR/NAME when the path is too long. */
  if (strlen(path) < sizeof sa.sun_path) {
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  } else {
    char d[PATH_MAX];
    const char *slash = strrchr(path, '/');
    snprintf(d, sizeof d, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    dir = open(d[0] ? d : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return fail("open %s", d);
    if (snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dir, slash ? slash + 1 : path) >=
        (int)sizeof sa.sun_path) {
      close(dir);
      errno = ENAMETOOLONG;
      return fail("bind %s", path);
    }
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail("socket");
  unlink(path);
  mode_t old = umask(0077); /* mode 0600 from the start, not after a chmod */
  int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  umask(old);
  if (dir >= 0) close(dir);
  if (r < 0 || listen(fd, 8) < 0) {
    fail("listen on %s", path);
    close(fd);
    return -1;
  }
  return fd;
}

int attach_add(int in, int out, int is_socket) {
  if (nclients == MAX_CLIENTS) return -1;
  if (++last_id == 0) last_id = 1; /* 0 means no client to stdin.c */
  clients[nclients++] = (struct client){.id = last_id, .in = in, .out = out, .sock = is_socket};
  return 0;
}

int attach_count(void) { return nclients; }

/* Close without letting fds 0-2 become free (a later pipe must not land
 * there, where C1 expects its stdio). */
static void close_fd(int fd) {
  if (fd > 2) {
    close(fd);
    return;
  }
  int n = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (n >= 0) {
    dup2(n, fd);
    close(n);
  }
}

static void drop(int i) {
  stdin_release(clients[i].id);
  close_fd(clients[i].in);
  if (clients[i].out != clients[i].in) close_fd(clients[i].out);
  clients[i] = clients[--nclients];
}

static int send_frame(struct client *c, int type, const void *buf, size_t len) {
  uint8_t h[5] = {(uint8_t)type, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  struct iovec iov[2] = {{h, 5}, {(void *)buf, len}};
  struct iovec *v = iov;
  int nv = len ? 2 : 1;
  while (nv > 0) {
    struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)nv};
    ssize_t n = c->sock ? sendmsg(c->out, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) : writev(c->out, v, nv);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return -1;
      struct pollfd p = {.fd = c->out, .events = POLLOUT};
      if (poll(&p, 1, c->sock ? SEND_TIMEOUT_MS : -1) <= 0) return -1;
      continue;
    }
    while (nv > 0 && (size_t)n >= v->iov_len) {
      n -= (ssize_t)v->iov_len;
      v++;
      nv--;
    }
    if (nv > 0) {
      v->iov_base = (char *)v->iov_base + n;
      v->iov_len -= (size_t)n;
    }
  }
  return 0;
}

int attach_accept(int listen_fd) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return 0;
  if (attach_add(fd, fd, 1) < 0) {
    struct client c = {.out = fd, .sock = 1};
    const char *msg = "too many attach clients";
    send_frame(&c, F_ERROR, msg, strlen(msg));
    close(fd);
    return 0;
  }
  return 1;
}

/* A complete frame; returns 0 when it must wait (a STDIN_EOF behind another
 * client's frame). */
static int dispatch(struct client *c) {
  switch (c->type) {
  case F_RESIZE:
    if (M.master >= 0 && c->slen == 4) {
      struct winsize ws = {.ws_row = (unsigned short)(c->small[0] << 8 | c->small[1]),
                           .ws_col = (unsigned short)(c->small[2] << 8 | c->small[3])};
      ioctl(M.master, TIOCSWINSZ, &ws);
    }
    break;
  case F_STDIN_EOF:
    return stdin_eof(c->id);
  case F_SIGNAL:
    if (c->slen >= 1 && M.pid1 > 0 && !M.pid1_reaped && c->small[0] > 0 && c->small[0] < 65)
      kill(M.pid1, c->small[0]);
    break;
  }
  return 1;
}

/* Use the client's read bytes as far as stdin.c allows. Returns 1 if
 * anything was used, 0 if not, -1 when it must be dropped. */
static int consume(struct client *c) {
  int used = 0;
  for (;;) {
    const uint8_t *p = c->buf + c->off;
    size_t n = c->len - c->off;
    if (c->hlen < 5) {
      if (n == 0) break;
      size_t take = 5u - c->hlen < n ? 5u - c->hlen : n;
      memcpy(c->hdr + c->hlen, p, take);
      c->hlen = (uint8_t)(c->hlen + take);
      c->off += take;
      used = 1;
      if (c->hlen < 5) break;
      c->type = c->hdr[0];
      c->left = (uint32_t)c->hdr[1] << 24 | (uint32_t)c->hdr[2] << 16 | (uint32_t)c->hdr[3] << 8 | c->hdr[4];
      c->slen = 0;
      if (c->left > MAX_PAYLOAD) return -1;
    } else if (c->left > 0) {
      if (n == 0) break;
      size_t take = c->left < n ? c->left : n;
      if (c->type == F_STDIN) {
        /* Streamed: a 1 MiB frame needs no 1 MiB buffer. */
        take = stdin_write(c->id, p, take, take == c->left);
        if (take == 0) break;
      } else {
        for (size_t k = 0; k < take && c->slen < sizeof c->small; k++) c->small[c->slen++] = p[k];
      }
      c->off += take;
      c->left -= (uint32_t)take;
      used = 1;
    } else {
      if (!dispatch(c)) break;
      c->hlen = 0;
      used = 1;
    }
  }
  if (c->off == c->len) c->off = c->len = 0;
  return used;
}

/* Waiting on stdin.c: bytes left over, or a complete frame not yet acted on. */
static int waiting(const struct client *c) { return c->len > 0 || (c->hlen == 5 && c->left == 0); }

int attach_pollfds(struct pollfd *pf) {
  for (int i = 0; i < nclients; i++) {
    struct client *c = &clients[i];
    /* After its input ended a socket is still watched for the hangup that
     * frees its slot; a waiting client is not read (its bytes stay in the
     * socket: back-pressure). fd -1 keeps the entries aligned with the table. */
    int fd = c->in_eof ? (c->sock ? c->out : -1) : waiting(c) ? -1 : c->in;
    pf[i] = (struct pollfd){.fd = fd, .events = c->in_eof || fd < 0 ? 0 : POLLIN};
  }
  return nclients;
}

/* Let every waiting client go on as far as it can; again after any
 * progress, since one client's frame ending frees stdin for the others. */
static void resume(void) {
  int again = 1;
  while (again) {
    again = 0;
    for (int i = nclients - 1; i >= 0; i--) {
      if (!waiting(&clients[i])) continue;
      int r = consume(&clients[i]);
      if (r < 0) drop(i);
      if (r != 0) again = 1;
    }
  }
}

void attach_handle(const struct pollfd *pf, int n) {
  /* Walk backwards: drop() moves the last client into the freed slot. */
  for (int i = n - 1; i >= 0; i--) {
    struct client *c = &clients[i];
    /* A client dropped since the poll (output it could not take) has left
     * its slot to another: skip an entry that is not this client's. */
    if (i >= nclients || pf[i].fd < 0 || !pf[i].revents) continue;
    if (pf[i].fd != (c->in_eof ? c->out : c->in) || (!c->in_eof && waiting(c))) continue;
    if (c->in_eof) {
      drop(i);
      continue;
    }
    ssize_t r = read(c->in, c->buf, sizeof c->buf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r < 0 || (r == 0 && c->sock && (pf[i].revents & (POLLHUP | POLLERR)))) {
      drop(i);
    } else if (r == 0) {
      c->in_eof = 1; /* half-closed: output still flows */
      stdin_release(c->id); /* a frame it left unfinished never ends */
    } else {
      c->off = 0;
      c->len = (size_t)r;
      if (consume(c) < 0) drop(i);
    }
  }
  resume();
}

void attach_broadcast(int type, const void *buf, size_t len) {
  for (int i = nclients - 1; i >= 0; i--)
    if (send_frame(&clients[i], type, buf, len) < 0) drop(i);
}

static void send_end(struct client *c, const char *error, int code, int sig) {
  uint8_t e[8] = {(uint8_t)(code >> 24), (uint8_t)(code >> 16), (uint8_t)(code >> 8), (uint8_t)code,
                  (uint8_t)(sig >> 24),  (uint8_t)(sig >> 16),  (uint8_t)(sig >> 8),  (uint8_t)sig};
  if (error) send_frame(c, F_ERROR, error, strlen(error));
  send_frame(c, F_EXIT, e, sizeof e);
  if (c->sock) shutdown(c->out, SHUT_WR);
}

void attach_refuse(int listen_fd, const char *error, int code, int sig) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  struct client c = {.in = fd, .out = fd, .sock = 1};
  send_end(&c, error, code, sig);
  close(fd);
}

void attach_exit(int listen_fd, const char *error, int code, int sig) {
  /* Whoever is still in the listen backlog hears the end too. */
  if (listen_fd >= 0)
    while (attach_accept(listen_fd)) {}
  for (int i = nclients - 1; i >= 0; i--) {
    send_end(&clients[i], error, code, sig);
    drop(i);
  }
}
