import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Paths of /proc and /sys that show the whole host (or its kernel) rather than the container, hidden
 * by the init stage (src/native/mounts.c): a file gets /dev/null bound over it, a directory an empty
 * read-only tmpfs; a path the kernel does not have is skipped. Docker's list first, then ours.
 */
export const MASKED_FILES = [
  // Docker's (moby oci/defaults.go; /proc/interrupts since moby#49560)
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  // Corral's: the kernel's crash-dump note address (a KASLR aid); kernel heap caches (an exploit
  // aid), readable because container root is host root unless user namespaces apply.
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
  // Thermal interrupt counts per CPU, a side channel like /proc/interrupts (moby#49560).
  ...thermalThrottleDirs(),
  // Corral's: the mount points of debugfs, tracefs and securityfs. Empty in the container's own
  // sysfs already; masked read-only so that nothing of the host's is ever found there.
  '/sys/kernel/debug',
  '/sys/kernel/tracing',
  '/sys/kernel/security',
];

/** `/sys/devices/system/cpu/cpuN/thermal_throttle` of each CPU that has one (x86 with thermal monitoring). */
export function thermalThrottleDirs(sys = '/sys'): string[] {
  const cpus = join(sys, 'devices/system/cpu');
  let names: string[];
  try {
    names = readdirSync(cpus);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.filter((x) => /^cpu\d+$/.test(x)).sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))) {
    try {
      readdirSync(join(cpus, n, 'thermal_throttle'));
      out.push(`/sys/devices/system/cpu/${n}/thermal_throttle`);
    } catch {
      // this CPU has none
    }
  }
  return out;
}

/** Every masked path; the shim stats each and masks a file or a directory accordingly. */
export const MASKED_PATHS = [...MASKED_FILES, ...MASKED_DIRECTORIES];

/** Docker's read-only paths. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
