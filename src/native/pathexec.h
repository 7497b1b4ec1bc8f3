/* execve with a PATH search in the container's environment and Docker's
 * messages: 127 for a program that is not there, 126 for one that cannot
 * be executed. */
#ifndef CORRAL_PATHEXEC_H
#define CORRAL_PATHEXEC_H

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Returns only on failure: the last error is set, the exit code returned. */
int exec_program(char **argv, char **env);

#endif
