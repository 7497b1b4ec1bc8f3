/* --user resolution against the container's own /etc/passwd and /etc/group.
 * A static glibc must not use NSS (getpwnam would dlopen host modules), and
 * the files belong to the container anyway, so they are parsed here. */
#ifndef CORRAL_USER_H
#define CORRAL_USER_H

#include <sys/types.h>

#define USER_MAX_GROUPS 64

struct user {
  uid_t uid;
  gid_t gid;
  gid_t groups[USER_MAX_GROUPS];
  int ngroups;
  char home[256];
};

/* SPEC is uid[:gid] or name[:group]; NULL means root. Files are read after
 * pivot_root, so "/etc/passwd" is the container's. */
int user_resolve(const char *spec, struct user *u);

#endif
