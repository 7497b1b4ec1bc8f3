/* The sync socket (fd 3) between the init/exec stages and the monitor: an
 * AF_UNIX SOCK_SEQPACKET end speaking the shim protocol (proto.h). A stage
 * sends PID once the container process exists and ERROR when a step fails;
 * it is O_CLOEXEC, so a successful execve is its EOF. */
#ifndef CORRAL_SYNC_H
#define CORRAL_SYNC_H

#include <sys/types.h>

#define SYNC_FD 3

/* Mark fd 3 close-on-exec if it is open; without it messages go to stderr. */
void sync_init(void);
int sync_pid(pid_t pid);
/* Send ERROR with the last error and _exit(code). */
__attribute__((noreturn)) void sync_die(int code);
/* Forget the sync fd in this process (closing our copy). */
void sync_close(void);
/* Ask the monitor to write pid's uid_map and gid_map; returns once it has
 * (0) or with its ERROR as our error (-1). Used by a stage that made a user
 * namespace and must wait for its maps before going on. */
int sync_idmap(pid_t pid);
/* Create-then-start: send READY (the container is set up) and block until
 * the monitor answers RUN (0) or ERROR (-1, e.g. the start was aborted). */
int sync_wait_run(void);
/* Pass fd to the monitor as an FD message named name (e.g. "seccomp"). */
int sync_send_fd(int fd, const char *name);

#endif
