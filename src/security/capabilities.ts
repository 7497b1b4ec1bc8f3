import { ValidationError } from '../errors.js';

/** Every capability the kernel knows (linux/capability.h, 6.x), without the CAP_ prefix. */
export const ALL_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/** Docker's default set: the ceiling for a container unless the user adds more. */
export const DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/** `sys_admin`, `CAP_SYS_ADMIN` and `SYS_ADMIN` all name the same capability; `ALL` names every one. */
export function normalizeCapability(name: string, flag: string): string {
  const n = name.trim().toUpperCase().replace(/^CAP_/, '');
  if (n === 'ALL') return n;
  if (!(ALL_CAPABILITIES as readonly string[]).includes(n)) {
    throw new ValidationError(`${flag} ${JSON.stringify(name)}: unknown capability (see capabilities(7), e.g. NET_ADMIN)`);
  }
  return n;
}

/** Docker's rule: start from the default set, drop, then add; `ALL` on either side means every capability. */
export function resolveCapabilities(add: readonly string[] = [], drop: readonly string[] = []): string[] {
  const adds = add.map((c) => normalizeCapability(c, '--cap-add'));
  const drops = drop.map((c) => normalizeCapability(c, '--cap-drop'));
  let set = new Set<string>(drops.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)));
  if (adds.includes('ALL')) set = new Set(ALL_CAPABILITIES);
  else for (const c of adds) set.add(c);
  return ALL_CAPABILITIES.filter((c) => set.has(c));
}
