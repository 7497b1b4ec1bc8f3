/* `corral-shim monitor`: one per container, outliving corrald. It starts
 * the container through unshare and the init stage, waits for its PID 1
 * as a subreaper, relays its output to the log and attach clients, and
 * records how it ended. State is one global: there is one monitor per
 * process and it is single-threaded. */
#ifndef CORRAL_MONITOR_H
#define CORRAL_MONITOR_H

#include <stddef.h>
#include <sys/types.h>

#include "util.h"

struct options {
  const char *id, *state_dir, *log, *socket, *exit_notify, *pty_root;
  const char *log_max_size, *log_max_files; /* numbers, checked by log_limits */
  const char **cgroup_procs;
  size_t ncgroup;
  int tty, stdin_open, wait_attach, stdio_attach, no_daemon, wait_run;
  char **argv;
};

struct monitor {
  struct options o;
  int report_fd; /* stdout (stderr with --stdio-attach); -1 once closed */
  int sig_fd, listen_fd, log_fd;

  pid_t c1, pid1; /* the forked child (unshare) and the container's PID 1 */
  int c1_reaped, pid1_reaped, c1_status, pid1_status;
  unsigned long long pid1_start;
  int spawned, started;

  int sync_fd; /* our end of the sync socketpair (shim protocol, proto.h) */
  char error[ERR_MAX];  /* the first ERROR message */
  /* What an IDMAP_REQUEST writes to /proc/PID/{uid,gid}_map (--uid-map,
   * --gid-map, e.g. "0 1000000 65536"); without them a request is answered
   * with ERROR. */
  const char *uid_map, *gid_map;

  /* --wait-run: stdin carries corrald's "run" (control.c). */
  int ctl_fd;
  char ctl_buf[16];
  size_t ctl_len;
  enum { RUN_NONE, RUN_GO, RUN_ABORT } run;
  int stage_waiting, reported_ready;
  char last_err[256];   /* last stderr line before start, for a bare failure */

  int out_fd, err_fd; /* output sources; err_fd is -1 with a tty */
  int master;         /* pty master, for RESIZE */
  int in_fd;          /* the container's stdin (only with --stdin); stdin.c writes and closes it */

  /* How it ended, settled when the main process is reaped. */
  int ended;
  pid_t end_pid;
  int end_code, end_sig; /* end_sig 0: none */
  char end_error[ERR_MAX]; /* empty: started fine */
};

extern struct monitor M;

int monitor_main(int argc, char **argv);

/* child.c: stdio for the container, fork C1, exec ARGV. */
int child_spawn(void);

/* control.c: corrald's RUN on stdin, passed on to the waiting stage. */
void control_read(void);
void control_stage_ready(void);

/* streams.c: output to the log and the clients. */
void output_read(int *fd, int stream);

/* report.c: the start-up report and the state files. */
void report_ready(void);
void report_started(pid_t pid, unsigned long long start);
void report_failed(int code, const char *message);
void report_close(void);
int write_runtime(void);
void exit_reserve(void);
int write_exit(pid_t pid, int code, int sig, const char *error);
void write_notify(void);
void monitor_warn(void);

#endif
