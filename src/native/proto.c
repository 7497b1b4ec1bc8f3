#define _GNU_SOURCE
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

const char *proto_name(int type) {
  switch (type) {
#define PROTO_CASE(name, n) \
  case n: return #name;
    PROTO_MESSAGES(PROTO_CASE)
#undef PROTO_CASE
  }
  return NULL;
}

static const char *name_or_number(int type) {
  static char buf[16];
  const char *n = proto_name(type);
  if (n) return n;
  snprintf(buf, sizeof buf, "type %d", type);
  return buf;
}

int proto_send(int sock, int type, const void *payload, size_t len, int fd) {
  if (len > PROTO_MAX_PAYLOAD) len = PROTO_MAX_PAYLOAD; /* a message is one line; cut, never split */
  unsigned char head[PROTO_HEADER] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                                      (unsigned char)(len >> 8), (unsigned char)len};
  struct iovec iov[2] = {{head, sizeof head}, {(void *)payload, len}};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
  if (fd >= 0) {
    memset(&ctl, 0, sizeof ctl);
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail("send %s", name_or_number(type));
  return 0;
}

int proto_send_text(int sock, int type, const char *text) {
  return proto_send(sock, type, text, strlen(text), -1);
}

int proto_send_i32(int sock, int type, int32_t v) {
  uint32_t u = (uint32_t)v;
  unsigned char b[4] = {(unsigned char)(u >> 24), (unsigned char)(u >> 16), (unsigned char)(u >> 8), (unsigned char)u};
  return proto_send(sock, type, b, sizeof b, -1);
}

/* Every fd that came with a datagram: the one an FD message may keep goes to
 * *keep (if keep is non-NULL and it is the only one), the rest are closed. */
static int take_fds(struct msghdr *mh, int *keep) {
  int count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < nfd; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (keep && count == 0) *keep = fd;
      else close(fd);
      count++;
    }
  }
  if (count > 1 && keep && *keep >= 0) close(*keep), *keep = -1;
  return count;
}

int proto_recv(int sock, struct proto_msg *m) {
  unsigned char head[PROTO_HEADER];
  struct iovec iov[2] = {{head, sizeof head}, {m->payload, PROTO_MAX_PAYLOAD}};
  union {
    char buf[CMSG_SPACE(4 * sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t n;
  do n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  m->fd = -1;
  if (n < 0) {
    int e = errno;
    fail("receive a shim message");
    errno = e;
    return -1;
  }
  if (n == 0) return 0;
  m->type = head[0];
  int fds = take_fds(&mh, m->type == PROTO_FD ? &m->fd : NULL);
  if (n < PROTO_HEADER || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    if (m->fd >= 0) close(m->fd), m->fd = -1;
    errno = EPROTO;
    return failx("receive a shim message: %zd bytes%s", n, (mh.msg_flags & MSG_TRUNC) ? ", truncated" : "");
  }
  m->len = (uint32_t)head[1] << 24 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 8 | head[4];
  m->payload[n - PROTO_HEADER] = 0;
  if (m->len != (uint32_t)(n - PROTO_HEADER)) {
    if (m->fd >= 0) close(m->fd), m->fd = -1;
    errno = EPROTO;
    return failx("receive %s: length %u in a %zd-byte message", name_or_number(m->type), m->len, n);
  }
  if (m->type == PROTO_FD && (fds != 1 || m->fd < 0)) {
    if (m->fd >= 0) close(m->fd), m->fd = -1;
    errno = EPROTO;
    return failx("receive FD: %d descriptors, not 1", fds);
  }
  if (m->type != PROTO_FD && fds > 0) {
    errno = EPROTO;
    return failx("receive %s: it carried %d descriptor(s)", name_or_number(m->type), fds);
  }
  return 1;
}

int proto_i32(const struct proto_msg *m, size_t off, int32_t *out) {
  if (m->len < off + 4) {
    errno = EPROTO;
    return failx("%s: payload of %u bytes has no integer at %zu", name_or_number(m->type), m->len, off);
  }
  const unsigned char *b = m->payload + off;
  *out = (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
  return 0;
}

int proto_ask(int sock, int type, const void *payload, size_t len, int answer) {
  if (proto_send(sock, type, payload, len, -1) < 0) return -1;
  struct proto_msg m;
  int r = proto_recv(sock, &m);
  if (r < 0) return -1;
  if (r == 0) return failx("%s: the monitor closed the sync socket", name_or_number(type));
  if (m.fd >= 0) close(m.fd);
  if (m.type == answer) return 0;
  if (m.type == PROTO_ERROR) return failx("%s", (const char *)m.payload);
  return failx("%s: answered with %s, not %s", name_or_number(type), name_or_number(m.type), name_or_number(answer));
}

int proto_idmap_request(int sock, pid_t pid) {
  uint32_t u = (uint32_t)pid;
  unsigned char b[4] = {(unsigned char)(u >> 24), (unsigned char)(u >> 16), (unsigned char)(u >> 8), (unsigned char)u};
  return proto_ask(sock, PROTO_IDMAP_REQUEST, b, sizeof b, PROTO_IDMAP_DONE);
}

static int write_map(pid_t pid, const char *name, const char *map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail("open %s", path);
  /* The kernel takes a map in one write() only. */
  ssize_t n = write(fd, map, strlen(map));
  int e = errno;
  close(fd);
  errno = e;
  if (n < 0) return fail("write %s", path);
  if ((size_t)n != strlen(map)) return failx("write %s: short write", path);
  return 0;
}

int proto_idmap_write(pid_t pid, const char *uid_map, const char *gid_map) {
  if (uid_map && write_map(pid, "uid_map", uid_map) < 0) return -1;
  if (gid_map && write_map(pid, "gid_map", gid_map) < 0) return -1;
  return 0;
}
