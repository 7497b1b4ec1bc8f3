import { readFile } from 'node:fs/promises';

/** One line of /proc/PID/mountinfo, the fields Corral reads. */
export interface MountEntry {
  /** `major:minor` of the filesystem: two mounts of one FUSE connection share it, a new connection gets another. */
  dev: string;
  /** The path inside the filesystem that is mounted (`/proc/meminfo` for a bind of one lxcfs file). */
  root: string;
  /** Where it is mounted, as the reading process's root sees it. */
  mountPoint: string;
  fsType: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0) continue;
    out.push({ dev: f[2]!, root: unescape(f[3]!), mountPoint: unescape(f[4]!), fsType: f[sep + 1]! });
  }
  return out;
}

/** The mounts of `pid`'s mount namespace (`self` for the caller's); empty if it is gone. */
export async function readMountinfo(pid: number | 'self' = 'self', procRoot = '/proc'): Promise<MountEntry[]> {
  try {
    return parseMountinfo(await readFile(`${procRoot}/${pid}/mountinfo`, 'utf8'));
  } catch {
    return [];
  }
}
