/* `corral-shim exec`: join a running container's namespaces and run a
 * process there with the container's user/capability rules. */
#ifndef CORRAL_EXEC_H
#define CORRAL_EXEC_H

int exec_main(int argc, char **argv);

#endif
