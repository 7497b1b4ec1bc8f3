#ifndef CORRAL_DEVICES_H
#define CORRAL_DEVICES_H

/* corral-shim devices CGROUP_DIR RULE...: attach the cgroup v2 device allow-list (devices.c). */
int devices_main(int argc, char **argv);

#endif
