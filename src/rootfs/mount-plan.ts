import type { MountInfo, VolumeSpec } from '../api/types.js';
import { MASKED_DIRECTORIES, MASKED_PATHS, READONLY_PATHS } from '../security/masked-paths.js';
import type { LayerLayout } from './layout.js';

/**
 * The mounts the init stage makes for a container, in order (src/native/rootfs.c and mounts.c do
 * them; this is what `inspect` shows, and it must say the same).
 */
export function mountPlan(c: { readOnly: boolean; volumes: VolumeSpec[] }, lower: string[], l: LayerLayout, lxcfs: readonly { source: string; target: string }[] = []): MountInfo[] {
  const m: MountInfo[] = [
    { type: 'overlay', source: 'overlay', destination: '/', options: [`lowerdir=${lower.join(':')}`, `upperdir=${l.upper}`, `workdir=${l.work}`, 'nodev', ...(c.readOnly ? ['ro'] : [])] },
    { type: 'proc', source: 'proc', destination: '/proc', options: ['nosuid', 'nodev', 'noexec'] },
    { type: 'sysfs', source: 'sysfs', destination: '/sys', options: ['ro', 'nosuid', 'nodev', 'noexec'] },
    { type: 'tmpfs', source: 'tmpfs', destination: '/dev', options: ['nosuid', 'nodev', 'noexec', 'mode=755', 'size=64k'] },
    { type: 'devpts', source: 'devpts', destination: '/dev/pts', options: ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { type: 'tmpfs', source: 'shm', destination: '/dev/shm', options: ['nosuid', 'nodev', 'noexec', 'size=64m'] },
    { type: 'mqueue', source: 'mqueue', destination: '/dev/mqueue', options: ['nosuid', 'nodev', 'noexec'] },
  ];
  for (const b of lxcfs) m.push({ type: 'bind', source: b.source, destination: b.target, options: ['nosuid', 'nodev', 'ro', 'lxcfs'] });
  for (const v of c.volumes) m.push({ type: 'bind', source: v.source, destination: v.target, options: ['rbind', 'nosuid', 'nodev', v.readOnly ? 'ro' : 'rw'] });
  for (const p of MASKED_PATHS) {
    m.push(MASKED_DIRECTORIES.includes(p) ? { type: 'tmpfs', source: 'tmpfs', destination: p, options: ['masked', 'ro'] } : { type: 'bind', source: '/dev/null', destination: p, options: ['masked'] });
  }
  for (const p of READONLY_PATHS) m.push({ type: 'bind', source: p, destination: p, options: ['ro'] });
  return m;
}
