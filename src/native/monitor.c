#define _GNU_SOURCE
#include "boot.h"
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "log.h"
#include "proto.h"
#include "stdin.h"

/* After PID 1 is reaped, output still in the pipes is relayed; a process
 * that escaped with the pipe (only possible for exec) is not waited for. */
#define DRAIN_MS 1000

struct monitor M = {
    .report_fd = 1, .sig_fd = -1, .listen_fd = -1, .log_fd = -1, .sync_fd = -1,
    .out_fd = -1, .err_fd = -1, .master = -1, .in_fd = -1, .ctl_fd = -1,
};

static int *flag_of(struct options *o, const char *opt) {
  if (strcmp(opt, "--tty") == 0) return &o->tty;
  if (strcmp(opt, "--stdin") == 0) return &o->stdin_open;
  if (strcmp(opt, "--wait-attach") == 0) return &o->wait_attach;
  if (strcmp(opt, "--stdio-attach") == 0) return &o->stdio_attach;
  if (strcmp(opt, "--no-daemon") == 0) return &o->no_daemon;
  if (strcmp(opt, "--wait-run") == 0) return &o->wait_run;
  return NULL;
}

static const char **value_of(struct options *o, const char *opt) {
  if (strcmp(opt, "--id") == 0) return &o->id;
  if (strcmp(opt, "--state-dir") == 0) return &o->state_dir;
  if (strcmp(opt, "--log") == 0) return &o->log;
  if (strcmp(opt, "--socket") == 0) return &o->socket;
  if (strcmp(opt, "--exit-notify") == 0) return &o->exit_notify;
  if (strcmp(opt, "--pty-root") == 0) return &o->pty_root;
  if (strcmp(opt, "--log-max-size") == 0) return &o->log_max_size;
  if (strcmp(opt, "--log-max-files") == 0) return &o->log_max_files;
  if (strcmp(opt, "--cgroup-procs") == 0) return &o->cgroup_procs[o->ncgroup++];
  if (strcmp(opt, "--uid-map") == 0) return &M.uid_map;
  if (strcmp(opt, "--gid-map") == 0) return &M.gid_map;
  return NULL;
}

static int parse(int argc, char **argv, struct options *o) {
  o->cgroup_procs = calloc((size_t)argc, sizeof *o->cgroup_procs);
  if (!o->cgroup_procs) return failx("out of memory");
  int i;
  for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
    int *flag = flag_of(o, argv[i]);
    if (flag) {
      *flag = 1;
      if (flag == &o->stdio_attach) M.report_fd = 2; /* stdout carries frames */
      continue;
    }
    const char **value = value_of(o, argv[i]);
    if (!value) return failx("monitor: unknown option %s", argv[i]);
    if (i + 1 >= argc) return failx("monitor: option %s needs a value", argv[i]);
    /* Paths made absolute now: a daemonizing monitor does chdir("/"). */
    int text = value == &o->id || value == &o->log_max_size || value == &o->log_max_files || value == &M.uid_map || value == &M.gid_map;
    *value = text ? argv[i + 1] : absolute(argv[i + 1]);
    i++;
  }
  if (i + 1 >= argc) return failx("monitor: no program after --");
  o->argv = argv + i + 1;
  if (log_limits(o->log_max_size, o->log_max_files) < 0) return -1;
  if (o->wait_attach && !o->socket && !o->stdio_attach)
    return failx("monitor: --wait-attach needs --socket or --stdio-attach");
  if (o->wait_run && (o->wait_attach || o->stdio_attach))
    return failx("monitor: --wait-run goes with neither --wait-attach nor --stdio-attach (both use stdin or \"ready\")");
  return 0;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One message from the init/exec stage (or C1). */
static void on_message(struct proto_msg *m) {
  int32_t v;
  switch (m->type) {
  case PROTO_PID:
    if (proto_i32(m, 0, &v) == 0 && v > 0 && !M.pid1) {
      M.pid1 = (pid_t)v;
      /* Now, while it cannot have been reaped yet (only we reap it). */
      pid_starttime(M.pid1, &M.pid1_start);
    }
    return;
  case PROTO_ERROR:
    if (!M.error[0]) str_copy(M.error, sizeof M.error, (const char *)m->payload);
    return;
  case PROTO_IDMAP_REQUEST:
    /* The stage waits for our answer; an unusable request is answered too. */
    if (proto_i32(m, 0, &v) < 0 || v <= 0) failx("idmap request: bad pid");
    else if (!M.uid_map && !M.gid_map) failx("idmap request for pid %d: the monitor has no id maps", (int)v);
    else if (proto_idmap_write((pid_t)v, M.uid_map, M.gid_map) == 0) {
      if (proto_send(M.sync_fd, PROTO_IDMAP_DONE, NULL, 0, -1) < 0) monitor_warn();
      return;
    }
    if (proto_send_text(M.sync_fd, PROTO_ERROR, errmsg()) < 0) monitor_warn();
    return;
  case PROTO_READY:
    control_stage_ready();
    return;
  case PROTO_FD: /* nothing takes a descriptor yet: never keep one we do not use */
    failx("sync socket: unexpected FD \"%s\"", (const char *)m->payload);
    monitor_warn();
    close(m->fd);
    return;
  default:
    failx("sync socket: unexpected message %s", proto_name(m->type) ? proto_name(m->type) : "of unknown type");
    monitor_warn();
  }
}

static void started(void) {
  if (write_runtime() < 0) monitor_warn();
  M.started = 1;
  report_started(M.pid1, M.pid1_start);
  report_close();
}

/* Read what the init/exec stage sent; at EOF (the exec closed the last
 * O_CLOEXEC copy of its end) the container has started, unless an error
 * came first. */
static void sync_read(void) {
  while (M.sync_fd >= 0) {
    struct proto_msg m;
    int r = proto_recv(M.sync_fd, &m);
    if (r < 0 && errno == EAGAIN) return; /* the rest comes later */
    if (r < 0 && errno == EPROTO) {
      monitor_warn(); /* a malformed message is dropped */
      continue;
    }
    if (r <= 0) {
      if (r < 0 && !M.error[0]) str_copy(M.error, sizeof M.error, errmsg());
      close(M.sync_fd);
      M.sync_fd = -1;
      if (!M.error[0] && M.pid1 > 0) started();
      return;
    }
    on_message(&m);
  }
}

static void reap(void) {
  struct signalfd_siginfo si;
  while (read(M.sig_fd, &si, sizeof si) > 0) {}
  /* A PID message is always sent before its process can reach us, so
   * reading the sync socket first means no reaped pid is a stranger. */
  sync_read();
  int status;
  pid_t w;
  while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
    if (w == M.c1) M.c1_reaped = 1, M.c1_status = status;
    if (w == M.pid1) M.pid1_reaped = 1, M.pid1_status = status;
  }
}

static int main_done(void) {
  if (!M.spawned) return 0;
  if (M.pid1 > 0) return M.pid1_reaped;
  return M.c1_reaped; /* C1 ended without naming a PID 1 */
}

static void describe(char *out, size_t cap, int status) {
  if (WIFSIGNALED(status)) snprintf(out, cap, "killed by signal %d", WTERMSIG(status));
  else snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
}

/* Settle the outcome once the main process is gone (or never started). */
static void conclude(void) {
  int own = M.pid1 > 0 && M.pid1_reaped;
  int status = own ? M.pid1_status : M.c1_status;
  char how[48];
  M.ended = 1;
  M.end_pid = own ? M.pid1 : M.c1;
  M.end_sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  M.end_code = M.end_sig ? 128 + M.end_sig : WEXITSTATUS(status);
  if (!M.spawned) {
    str_copy(M.end_error, sizeof M.end_error, errmsg());
  } else if (!M.started) {
    describe(how, sizeof how, status);
    if (M.error[0]) str_copy(M.end_error, sizeof M.end_error, M.error);
    else if (own) snprintf(M.end_error, sizeof M.end_error, "container process %s during setup", how);
    else
      snprintf(M.end_error, sizeof M.end_error, "%s %s%s%s", M.o.argv[0], how, M.last_err[0] ? ": " : "",
               M.last_err);
  }
  if (M.end_error[0]) {
    /* The report's CODE: 126/127 from the exec step, 1 for all else. */
    M.end_code = !M.end_sig && (M.end_code == 126 || M.end_code == 127) ? M.end_code : 1;
    M.end_sig = 0;
    if (!M.spawned) M.end_pid = 0;
  }
}

__attribute__((noreturn)) static void finish(void) {
  if (!M.ended) conclude();
  const char *error = M.end_error[0] ? M.end_error : NULL;
  if (write_exit(M.end_pid, M.end_code, M.end_sig, error) < 0) monitor_warn();
  if (error) report_failed(M.end_code, error);
  report_close();
  write_notify();
  attach_exit(M.listen_fd, error, M.end_code, M.end_sig);
  if (M.o.socket) unlink(M.o.socket);
  exit(0);
}

static void setup(void) {
  exit_reserve(); /* before anything can fail: the record must fit on a full disk */
  signal(SIGTERM, SIG_IGN); /* we must outlive corrald and the CLI */
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  M.sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (M.sig_fd < 0) fail("signalfd"), finish();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) fail("become a subreaper"), finish();

  if (!M.o.no_daemon) {
    setsid(); /* fails harmlessly if spawned detached (already a leader) */
    if (chdir("/") < 0) fail("chdir /"), finish();
    if (!M.o.stdio_attach && !M.o.wait_run) {
      int n = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (n >= 0) dup2(n, 0), close(n);
    }
  }
  if (M.o.wait_run) {
    M.ctl_fd = 0; /* until "run" arrives (control.c) */
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  }
  if (M.o.log) {
    M.log_fd = log_open(M.o.log);
    if (M.log_fd < 0) finish();
  }
  if (M.o.socket && (M.listen_fd = attach_listen(M.o.socket)) < 0) finish();
  if (M.o.stdio_attach) attach_add(0, 1, 0);
}

int monitor_main(int argc, char **argv) {
  if (parse(argc, argv, &M.o) < 0) {
    /* A usage error of corrald's: said on stderr and, so the start fails
     * cleanly rather than without a report, on the report stream. */
    monitor_warn();
    report_failed(1, errmsg());
    return 2;
  }
  /* Whatever the spawner leaked would otherwise live as long as we do. */
  close_range(3, ~0U, 0);
  setup();
  if (M.o.wait_attach) report_ready();
  if ((!M.o.wait_attach || attach_count() > 0) && child_spawn() < 0) finish();

  long long deadline = -1;
  for (;;) {
    if (deadline < 0 && main_done()) {
      conclude();
      boot_console_release();
      deadline = now_ms() + DRAIN_MS;
    }
    if (deadline >= 0 && ((M.out_fd < 0 && M.err_fd < 0) || now_ms() >= deadline)) finish();

    struct pollfd pf[8 + MAX_CLIENTS];
    int n = 0, i_sig = -1, i_sync = -1, i_ctl = -1, i_out = -1, i_err = -1, i_in = -1, i_listen = -1;
#define ADD(var, f, ev) (var = n, pf[n++] = (struct pollfd){.fd = (f), .events = (ev)})
    ADD(i_sig, M.sig_fd, POLLIN);
    if (M.sync_fd >= 0) ADD(i_sync, M.sync_fd, POLLIN);
    if (M.ctl_fd >= 0) ADD(i_ctl, M.ctl_fd, POLLIN);
    if (M.out_fd >= 0) ADD(i_out, M.out_fd, POLLIN);
    if (M.err_fd >= 0) ADD(i_err, M.err_fd, POLLIN);
    if (stdin_pollfd() >= 0) ADD(i_in, stdin_pollfd(), POLLOUT);
    if (M.listen_fd >= 0) ADD(i_listen, M.listen_fd, POLLIN);
    int first_client = n;
    int nc = attach_pollfds(pf + n); /* only clients stdin.c lets go on */
    n += nc;

    int timeout = deadline < 0 ? -1 : (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0);
    if (poll(pf, (nfds_t)n, timeout) < 0) {
      if (errno == EINTR) continue;
      fail("poll"), finish();
    }
    if (i_sync >= 0 && pf[i_sync].revents) sync_read();
    if (i_ctl >= 0 && pf[i_ctl].revents) control_read();
    if (i_out >= 0 && pf[i_out].revents) output_read(&M.out_fd, 1);
    if (i_err >= 0 && pf[i_err].revents) output_read(&M.err_fd, 2);
    if (i_in >= 0 && pf[i_in].revents) stdin_ready(pf[i_in].revents);
    if (i_sig >= 0 && pf[i_sig].revents) reap();
    attach_handle(pf + first_client, nc);
    if (i_listen >= 0 && pf[i_listen].revents) {
      if (M.ended) /* too late for output: the end, at once */
        attach_refuse(M.listen_fd, M.end_error[0] ? M.end_error : NULL, M.end_code, M.end_sig);
      else if (attach_accept(M.listen_fd) && !M.spawned && child_spawn() < 0)
        finish();
    }
  }
}
