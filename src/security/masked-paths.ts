/**
 * Paths of /proc and /sys that show the whole host (or its kernel) rather than the container, hidden
 * by the init stage (src/native/mounts.c): a file gets /dev/null bound over it, a directory an empty
 * read-only tmpfs; a path the kernel does not have is skipped. Docker's list first, then ours.
 */
export const MASKED_FILES = [
  // Docker's (moby oci/defaults.go)
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  // Corral's: per-CPU interrupt counts of every host device (a side channel on the host's input
  // and network activity); the kernel's crash-dump note address (a KASLR aid); kernel heap caches
  // (an exploit aid), readable because container root is host root unless user namespaces apply.
  '/proc/interrupts',
  '/sys/kernel/vmcoreinfo',
  '/proc/slabinfo',
];

export const MASKED_DIRECTORIES = [
  // Docker's
  '/proc/asound',
  '/proc/acpi',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
  // Corral's: the mount points of debugfs, tracefs and securityfs. Empty in the container's own
  // sysfs already; masked read-only so that nothing of the host's is ever found there.
  '/sys/kernel/debug',
  '/sys/kernel/tracing',
  '/sys/kernel/security',
];

/** Every masked path; the shim stats each and masks a file or a directory accordingly. */
export const MASKED_PATHS = [...MASKED_FILES, ...MASKED_DIRECTORIES];

/** Docker's read-only paths. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
