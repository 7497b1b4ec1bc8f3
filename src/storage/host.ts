import { readFile } from 'node:fs/promises';
import type { Runner } from '../system/runner.js';

/**
 * What the host's kernel says about mounts and loop devices, read the same way by start, rm and
 * start-up repair (a seam: unit tests pass a recording runner and a fake mountinfo).
 */
export interface HostView {
  runner: Runner;
  /** /proc/self/mountinfo's text. */
  mountinfo(): Promise<string>;
}

export const realHost = (runner: Runner): HostView => ({ runner, mountinfo: () => readFile('/proc/self/mountinfo', 'utf8') });

/** mountinfo escapes space, tab, newline and backslash in paths as octal. */
const unescape = (p: string): string => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

export interface MountEntry {
  mountpoint: string;
  fstype: string;
  source: string;
  superOptions: string[];
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    if (f.length < 5 || r.length < 3) continue;
    out.push({ mountpoint: unescape(f[4]!), fstype: r[0]!, source: unescape(r[1]!), superOptions: r[2]!.split(',') });
  }
  return out;
}

export interface LoopDevice {
  name: string;
  /** The backing file as the kernel names it; ` (deleted)` is stripped (see `deleted`). */
  backFile: string;
  deleted: boolean;
}

/** `losetup -J -l`: every loop device in use. */
export async function loopDevices(runner: Runner, losetup = 'losetup'): Promise<LoopDevice[]> {
  const { stdout } = await runner.run(losetup, ['-J', '-l']);
  if (stdout.trim() === '') return [];
  const parsed = JSON.parse(stdout) as { loopdevices?: { name: string; 'back-file'?: string | null }[] };
  return (parsed.loopdevices ?? []).map((d) => {
    const back = d['back-file'] ?? '';
    const deleted = back.endsWith(' (deleted)');
    return { name: d.name, backFile: deleted ? back.slice(0, -' (deleted)'.length) : back, deleted };
  });
}
