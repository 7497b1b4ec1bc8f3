#define _GNU_SOURCE
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static const char *const names[] = {
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
    "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
    "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
    "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};
#define NCAPS (int)(sizeof names / sizeof names[0])

int cap_parse(const char *name, uint64_t *mask) {
  const char *n = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
  for (int i = 0; i < NCAPS; i++) {
    if (strcasecmp(n, names[i]) == 0) {
      *mask |= 1ULL << i;
      return 0;
    }
  }
  return failx("unknown capability %s", name);
}

static const char *cap_name(int cap) { return cap < NCAPS ? names[cap] : "?"; }

int caps_bound(uint64_t keep) {
  /* PR_CAPBSET_READ fails with EINVAL past the kernel's last capability. */
  for (int cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return fail("drop CAP_%s from the bounding set", cap_name(cap));
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return fail("clear the ambient capabilities");
  return 0;
}

int caps_set(uint64_t caps) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) < 0) return fail("capget");
  /* Asking for a capability the host already took away (here CAP_SYS_RESOURCE
   * is not in root's bounding set) would fail capset; leave it out instead. */
  uint64_t held = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
  caps &= held;
  for (int i = 0; i < 2; i++) {
    data[i].effective = data[i].permitted = (uint32_t)(caps >> (32 * i));
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &hdr, data) < 0) return fail("capset");
  return 0;
}
