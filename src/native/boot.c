#define _GNU_SOURCE
#include "boot.h"

#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <unistd.h>

#include "mounts.h"
#include "util.h"

/* A boot id of this boot alone over the kernel's (systemd-nspawn does the
 * same): journald tags each boot's records with it, so `journalctl -b`
 * and `--list-boots` tell the container's boots apart. The file is made on
 * the fresh /run, bound read-only, and unlinked: the bind keeps it. */
static int boot_id(int rootfd) {
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) return fail("getrandom for the boot id");
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40), b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  char id[40];
  int n = snprintf(id, sizeof id, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", b[0], b[1],
                   b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  const char *tmp = "/run/.corral-boot-id";
  int fd = open_in_root(rootfd, tmp, O_WRONLY | O_NOFOLLOW, CREATE_FILE);
  if (fd < 0) return fail("create %s%s", mount_root_name, tmp);
  if (write_all(fd, id, (size_t)n) < 0) {
    fail("write %s%s", mount_root_name, tmp);
    close(fd);
    return -1;
  }
  int r = mount_bind(rootfd, NULL, fd, "/proc/sys/kernel/random/boot_id", CREATE_NONE,
                     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0);
  close(fd);
  int run = open_in_root(rootfd, "/run", O_PATH | O_DIRECTORY, CREATE_NONE);
  if (run < 0 || unlinkat(run, tmp + 5, 0) < 0) r = r < 0 ? r : fail("unlink %s%s", mount_root_name, tmp);
  if (run >= 0) close(run);
  return r;
}

int boot_mounts(int rootfd) {
  const unsigned long fs = MS_NOSUID | MS_NODEV;
  if (mount_fs(rootfd, "/run", "tmpfs", fs | MS_STRICTATIME, "mode=755,size=20%") < 0) return -1;
  if (mount_fs(rootfd, "/run/lock", "tmpfs", fs | MS_NOEXEC, "mode=1777,size=5m") < 0) return -1;
  if (mount_fs(rootfd, "/tmp", "tmpfs", fs | MS_STRICTATIME, "mode=1777") < 0) return -1;
  /* Read-write: systemd makes init.scope and its slices there, and gives up
   * on a read-only tree ("Failed to create /init.scope"). Only the unified
   * hierarchy: systemd then runs in unified mode, on v2 and hybrid hosts. */
  if (mount_fs(rootfd, "/sys/fs/cgroup", "cgroup2", fs | MS_NOEXEC, NULL) < 0) return -1;
  return boot_id(rootfd);
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

static int console_slave = -1;

void boot_console_hold(int slave) {
  if (console_slave < 0) console_slave = fcntl(slave, F_DUPFD_CLOEXEC, 3);
}

void boot_console_release(void) {
  if (console_slave >= 0) close(console_slave);
  console_slave = -1;
}
