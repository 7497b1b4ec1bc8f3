/* The monitor's side of RUN (create-then-start, `--wait-run`): corrald
 * writes the line "run" to the monitor's stdin once it has seen "ready";
 * the monitor passes RUN on to the init stage, which is waiting before step
 * 8. If stdin ends without "run", the stage is told ERROR "start aborted"
 * and fails like any other setup step. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "proto.h"

/* Answer the waiting stage once both it and corrald have spoken. */
static void answer(void) {
  if (!M.stage_waiting || M.sync_fd < 0 || M.run == RUN_NONE) return;
  int r = M.run == RUN_GO ? proto_send(M.sync_fd, PROTO_RUN, NULL, 0, -1)
                          : proto_send_text(M.sync_fd, PROTO_ERROR, "start aborted: corrald closed the monitor's stdin before \"run\"");
  if (r < 0) monitor_warn();
  M.stage_waiting = 0;
}

static void control_close(void) {
  int n = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (n >= 0) dup2(n, M.ctl_fd), close(n);
  M.ctl_fd = -1;
}

void control_read(void) {
  while (M.ctl_fd >= 0) {
    ssize_t n = read(M.ctl_fd, M.ctl_buf + M.ctl_len, sizeof M.ctl_buf - M.ctl_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      if (M.run == RUN_NONE) M.run = RUN_ABORT;
      control_close();
      break;
    }
    M.ctl_len += (size_t)n;
    char *nl = memchr(M.ctl_buf, '\n', M.ctl_len);
    if (!nl && M.ctl_len < sizeof M.ctl_buf) continue;
    /* One line is all corrald ever sends here. */
    if (nl && nl - M.ctl_buf == 3 && memcmp(M.ctl_buf, "run", 3) == 0) {
      if (M.run == RUN_NONE) M.run = RUN_GO;
    } else {
      failx("monitor: unexpected line on stdin (expected \"run\")");
      monitor_warn();
      if (M.run == RUN_NONE) M.run = RUN_ABORT;
    }
    control_close();
  }
  answer();
}

void control_stage_ready(void) {
  if (!M.o.wait_run || M.stage_waiting || M.reported_ready) {
    failx("sync socket: unexpected READY");
    monitor_warn();
    return;
  }
  M.stage_waiting = 1;
  M.reported_ready = 1;
  report_ready();
  answer();
}
