/* The sync fd (fd 3) from the init and exec stages back to the monitor:
 * "pid HOSTPID\n" once the container process exists, "error MESSAGE\n" when
 * a step fails. It is O_CLOEXEC, so a successful execve is its EOF. */
#ifndef CORRAL_SYNC_H
#define CORRAL_SYNC_H

#include <sys/types.h>

#define SYNC_FD 3

/* Mark fd 3 close-on-exec if it is open; without it messages go to stderr. */
void sync_init(void);
int sync_pid(pid_t pid);
/* Send "error <last error>" and _exit(code). */
__attribute__((noreturn)) void sync_die(int code);
/* Forget the sync fd in this process (closing our copy). */
void sync_close(void);

#endif
