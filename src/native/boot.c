#define _GNU_SOURCE
#include "boot.h"

#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "mounts.h"
#include "util.h"

int boot_mounts(int rootfd) {
  const unsigned long fs = MS_NOSUID | MS_NODEV;
  if (mount_fs(rootfd, "/run", "tmpfs", fs | MS_STRICTATIME, "mode=755,size=20%") < 0) return -1;
  if (mount_fs(rootfd, "/run/lock", "tmpfs", fs | MS_NOEXEC, "mode=1777,size=5m") < 0) return -1;
  if (mount_fs(rootfd, "/tmp", "tmpfs", fs | MS_STRICTATIME, "mode=1777") < 0) return -1;
  /* Read-write: systemd makes init.scope and its slices there, and gives up
   * on a read-only tree ("Failed to create /init.scope"). Only the unified
   * hierarchy: systemd then runs in unified mode, on v2 and hybrid hosts. */
  if (mount_fs(rootfd, "/sys/fs/cgroup", "cgroup2", fs | MS_NOEXEC, NULL) < 0) return -1;
  return 0;
}

/* BASE of a one-line map "0 BASE SIZE". */
static int map_base(const char *map, unsigned long *base) {
  unsigned long inside, size;
  if (sscanf(map, "%lu %lu %lu", &inside, base, &size) != 3 || inside != 0) return -1;
  return 0;
}

int boot_console_own(int slave, const char *uid_map, const char *gid_map) {
  if (!uid_map || !gid_map) return 0;
  unsigned long uid, gid;
  if (map_base(uid_map, &uid) < 0 || map_base(gid_map, &gid) < 0)
    return failx("chown the console pty: id maps \"%s\" / \"%s\" do not map 0", uid_map, gid_map);
  if (fchown(slave, (uid_t)uid, (gid_t)gid) < 0) return fail("chown the console pty to %lu:%lu", uid, gid);
  return 0;
}
