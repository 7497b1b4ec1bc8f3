/**
 * The devices a container may open or create, as defence in depth under the `nodev` mounts: the
 * nodes its /dev holds (binds of the host's, a private devpts) and nothing else, not even mknod.
 * Docker's default rules without its `c *:* m` / `b *:* m`. cgroup v1 writes them to the devices
 * controller (`devices.deny a`, then one `devices.allow` per rule); cgroup v2 has no such files,
 * so a BPF_PROG_TYPE_CGROUP_DEVICE program made from the same list is attached (src/native/devices.c).
 * Both go on the container's limits cgroup, which its processes' cgroup (a child) inherits and
 * cannot widen.
 */
export interface DeviceRule {
  /** `c` char, `b` block. */
  type: 'c' | 'b';
  major: number;
  /** `*`: every minor of the major. */
  minor: number | '*';
  /** Any of r (read), w (write), m (mknod). */
  access: string;
  /** The node(s) it is for, for inspect. */
  path: string;
}

export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { type: 'c', major: 1, minor: 3, access: 'rwm', path: '/dev/null' },
  { type: 'c', major: 1, minor: 5, access: 'rwm', path: '/dev/zero' },
  { type: 'c', major: 1, minor: 7, access: 'rwm', path: '/dev/full' },
  { type: 'c', major: 1, minor: 8, access: 'rwm', path: '/dev/random' },
  { type: 'c', major: 1, minor: 9, access: 'rwm', path: '/dev/urandom' },
  { type: 'c', major: 5, minor: 0, access: 'rwm', path: '/dev/tty' },
  { type: 'c', major: 5, minor: 1, access: 'rwm', path: '/dev/console' },
  { type: 'c', major: 5, minor: 2, access: 'rwm', path: '/dev/ptmx' },
  // A pty slave: /dev/pts/N, and /dev/console when it is the container's tty.
  { type: 'c', major: 136, minor: '*', access: 'rwm', path: '/dev/pts/*' },
];

/** The kernel's spelling, shared by devices.allow and the shim: `c 136:* rwm`. */
export function ruleText(r: DeviceRule): string {
  return `${r.type} ${r.major}:${r.minor} ${r.access}`;
}

/** What inspect says was asked for: the allowed nodes, everything else denied. */
export function rulesRequested(rules: readonly DeviceRule[]): string {
  return `only ${rules.map((r) => r.path).join(' ')}`;
}
