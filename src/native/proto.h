/* The shim protocol (docs/shim.md, "The shim protocol"): typed messages
 * between the monitor and the init/exec stages over an AF_UNIX
 * SOCK_SEQPACKET socketpair (fd 3 in the stages), and the names of the
 * monitor's start-up report to corrald. One message is one datagram:
 *
 *   type u8 | payload length u32 BE | payload
 *
 * the attach protocol's frame layout, so the same bytes would also frame a
 * stream. An FD message carries one descriptor as SCM_RIGHTS.
 *
 * src/runtime/shim-protocol.ts mirrors this table name for name, number for
 * number; test/unit/runtime/shim-protocol.test.ts parses this file to keep
 * them equal. Numbers are never reused. */
#ifndef CORRAL_PROTO_H
#define CORRAL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* The table: X(NAME, number). Payloads (integers big-endian):
 *   PID            stage → monitor   i32 host pid of the container's process
 *   ERROR          either way        UTF-8 message, one line
 *   IDMAP_REQUEST  stage → monitor   i32 pid whose uid_map/gid_map to write
 *   IDMAP_DONE     monitor → stage   empty: the maps are written
 *   FD             either way        UTF-8 name of what the fd is; the fd in SCM_RIGHTS
 *   READY          monitor → corrald empty (report line "ready")
 *   RUN            corrald → monitor empty
 *   STARTED        monitor → corrald i32 pid, u64 start time ("started PID START")
 *   FAILED         monitor → corrald i32 code, UTF-8 message ("failed CODE MESSAGE") */
#define PROTO_MESSAGES(X) \
  X(PID, 1)               \
  X(ERROR, 2)             \
  X(IDMAP_REQUEST, 3)     \
  X(IDMAP_DONE, 4)        \
  X(FD, 5)                \
  X(READY, 6)             \
  X(RUN, 7)               \
  X(STARTED, 8)           \
  X(FAILED, 9)

enum proto_type {
#define PROTO_ENUM(name, n) PROTO_##name = n,
  PROTO_MESSAGES(PROTO_ENUM)
#undef PROTO_ENUM
};

#define PROTO_HEADER 5
#define PROTO_MAX_PAYLOAD (ERR_MAX + 16)

struct proto_msg {
  uint8_t type;
  uint32_t len;
  unsigned char payload[PROTO_MAX_PAYLOAD + 1]; /* +1: a text payload is NUL-terminated on receipt */
  int fd;                                        /* the SCM_RIGHTS fd of an FD message, else -1 */
};

/* "PID", "IDMAP_REQUEST", ...; NULL for an unknown type. */
const char *proto_name(int type);

/* One message; fd >= 0 is passed as SCM_RIGHTS. Never raises SIGPIPE.
 * Returns 0, or -1 with the error set ("send IDMAP_DONE: Broken pipe"). */
int proto_send(int sock, int type, const void *payload, size_t len, int fd);
int proto_send_text(int sock, int type, const char *text);
int proto_send_i32(int sock, int type, int32_t v);

/* One message into m. Returns 1, 0 at EOF (every peer copy closed), -1 on
 * error (EAGAIN on a non-blocking socket is returned as -1 with errno set).
 * A datagram whose header does not match its size, or that arrives with
 * fds it should not carry, is an error (fds are closed, never leaked).
 * Received fds are O_CLOEXEC. */
int proto_recv(int sock, struct proto_msg *m);

/* The i32 at offset off of the payload, or -1 with the error set. */
int proto_i32(const struct proto_msg *m, size_t off, int32_t *out);

/* Send type and block for the peer's answer: 0 when it is `answer`, -1
 * when it is ERROR (its message becomes our error), EOF or anything else. */
int proto_ask(int sock, int type, const void *payload, size_t len, int answer);

/* Stage side of IDMAP: send IDMAP_REQUEST for pid and block until the
 * monitor answers IDMAP_DONE (0) or ERROR (-1, its message as our error). */
int proto_idmap_request(int sock, pid_t pid);

/* Monitor side of IDMAP: write /proc/PID/uid_map then gid_map (each a
 * complete map text, "0 100000 65536\n"); NULL skips a map. */
int proto_idmap_write(pid_t pid, const char *uid_map, const char *gid_map);

#endif
