import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * Field 22 of /proc/PID/stat: the start time in clock ticks since boot. With the pid it names one
 * process for good, so a reused pid is never taken for a container (runc's refreshState).
 */
export function parseStatStartTime(stat: string): number | undefined {
  // comm (field 2) may hold spaces and parentheses: split after the last ')'.
  const end = stat.lastIndexOf(')');
  if (end < 0) return undefined;
  const rest = stat.slice(end + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19].
  const v = Number(rest[19]);
  return Number.isFinite(v) ? v : undefined;
}

export async function processStartTime(pid: number, procRoot = '/proc'): Promise<number | undefined> {
  try {
    return parseStatStartTime(await readFile(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export function processStartTimeSync(pid: number, procRoot = '/proc'): number | undefined {
  try {
    return parseStatStartTime(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive (not a zombie) and is the very process that started at `startTime`. */
export async function isSameProcess(pid: number, startTime: number, procRoot = '/proc'): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let stat: string;
  try {
    stat = await readFile(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  if (parseStatStartTime(stat) !== startTime) return false;
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state !== 'Z' && state !== 'X';
}

/** Pids in a cgroup.procs file (v1 or v2). */
export async function readPids(cgroupProcsFile: string): Promise<number[]> {
  try {
    const text = await readFile(cgroupProcsFile, 'utf8');
    return text.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
