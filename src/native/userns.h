/* The init stage's privileged phase for a private user namespace (docs/shim.md,
 * "The chain with a user namespace"): a user namespace whose maps the monitor
 * writes, idmapped copies of the layers and binds made while we are still host
 * root, then the move into the namespace. */
#ifndef CORRAL_USERNS_H
#define CORRAL_USERNS_H

#include <sys/types.h>

/* A new user namespace, held by an fd (O_CLOEXEC): a child made in it asks
 * the monitor for its maps (IDMAP_REQUEST) and exits once the fd is open. */
/* The host ids its root maps to come back in root_uid/root_gid, for what
 * host root creates on its behalf. */
int userns_make(uid_t *root_uid, gid_t *root_gid);
/* The user namespace that owns our network namespace (an fd), when it is
 * not ours: corrald made the namespace for the container inside one with
 * the container's maps (`corral-shim netns`), which becomes the container's.
 * -2 when it is ours (the host's), -1 on error. Root's host ids as above. */
int userns_of_netns(uid_t *root_uid, gid_t *root_gid);
/* Mount an idmapped copy of PATH (a directory) over PATH itself, in our
 * (private) mount namespace: ids on it are seen through userns's map. */
int userns_idmap_over(const char *path, int userns);
/* setns into the user namespace and become its root (uid/gid 0, no groups). */
int userns_enter(int userns);
/* A prepared network namespace belongs to the host's user namespace, so
 * container root holds no capability over it: let it bind ports below 1024
 * and open ICMP echo sockets as Docker's defaults do. Skipped in the network
 * namespace of our parent, the monitor: the host's. */
int userns_netns_sysctls(void);

#endif
