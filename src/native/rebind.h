#ifndef CORRAL_REBIND_H
#define CORRAL_REBIND_H

/* corral-shim rebind: replace file binds inside a running container's mount
 * namespace (LXCFS files after lxcfs restarted; docs/shim.md). */
int rebind_main(int argc, char **argv);

#endif
