/* A system container (--boot): what systemd's container interface asks of
 * the manager before it runs the init (https://systemd.io/CONTAINER_INTERFACE). */
#ifndef CORRAL_BOOT_H
#define CORRAL_BOOT_H

/* tmpfs on /run, /run/lock and /tmp, and the container's own cgroup2 tree
 * (its cgroup namespace root, delegated by corrald) writable on
 * /sys/fs/cgroup. PID 1 calls it in its own user and cgroup namespaces, so
 * the mounts belong to the container and show only its subtree. */
int boot_mounts(int rootfd);



/* The console pty the monitor made on the host's devpts belongs to host
 * root, which a private user namespace maps to nobody: give its slave to
 * the container's root (the host ids its maps "0 BASE SIZE" name), so its
 * init and getty can reopen /dev/console (LXC chowns its console the same
 * way). No map: nothing to do. */
int boot_console_own(int slave, const char *uid_map, const char *gid_map);

/* The monitor's own hold on the console's slave: a getty's vhangup(2)
 * closes every other opener, and a pty master with no slave left reads
 * EIO, which the monitor takes as the end of output. Released once PID 1
 * has exited, so draining still ends at EOF. */
void boot_console_hold(int slave);
void boot_console_release(void);
#endif
