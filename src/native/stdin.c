#define _GNU_SOURCE
#include "stdin.h"

#include <errno.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include "monitor.h"

static unsigned owner; /* client mid-frame (0: none) */
static int full;       /* the last write met EAGAIN: wait for POLLOUT */

static void stdin_close(void) {
  if (M.in_fd >= 0) close(M.in_fd);
  M.in_fd = -1;
  owner = 0;
  full = 0;
}

/* Returns how many bytes the fd took; sets `full` when it would block. */
static size_t put(const char *buf, size_t len) {
  size_t done = 0;
  while (done < len && M.in_fd >= 0) {
    ssize_t w = write(M.in_fd, buf + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      full = 1;
      break;
    }
    if (w < 0) { /* the reader is gone (EPIPE): stdin is simply over */
      stdin_close();
      return len;
    }
    done += (size_t)w;
  }
  return M.in_fd < 0 ? len : done;
}

size_t stdin_write(unsigned id, const void *buf, size_t len, int last) {
  if (M.in_fd < 0) return len;
  if ((owner && owner != id) || full) return 0;
  size_t done = put(buf, len);
  if (M.in_fd >= 0) owner = done == len && last ? 0 : id;
  return done;
}

int stdin_eof(unsigned id) {
  if (M.in_fd < 0) return 1;
  if ((owner && owner != id) || full) return 0;
  if (M.o.tty) {
    /* A tty has no half-close; end-of-file is the VEOF character. */
    struct termios t;
    char c = tcgetattr(M.master, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
    return put(&c, 1) == 1;
  }
  stdin_close();
  return 1;
}

void stdin_release(unsigned id) {
  if (owner == id) owner = 0;
}

int stdin_pollfd(void) { return full ? M.in_fd : -1; }

void stdin_ready(short revents) {
  if (revents & (POLLERR | POLLHUP)) stdin_close();
  else full = 0;
}
