import { readFile } from 'node:fs/promises';
import { isErrno } from '../errors.js';

/** One row of `corral top`'s default columns, read from /proc as `ps` would print it. */
export interface TopRow {
  pid: number;
  user: string;
  /** Cumulative CPU time, ps's `[DD-]HH:MM:SS`. */
  time: string;
  cmd: string;
}

/** USER_HZ: the unit of utime/stime in /proc/PID/stat, 100 on every Linux architecture Corral runs on. */
const CLK_TCK = 100;

/** ps's TIME column: `00:01:02`, or `3-00:01:02` past a day. */
export function psTime(seconds: number): string {
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86_400);
  const hms = [Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return days > 0 ? `${days}-${hms}` : hms;
}

/** uid → name from a passwd file (the host's, as Docker's `top` runs the host's `ps`). */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid) && !users.has(Number(uid))) users.set(Number(uid), name);
  }
  return users;
}

/** A process's row, or undefined when it exited meanwhile. */
export async function topRow(pid: number, users: ReadonlyMap<number, string>, procRoot = '/proc'): Promise<TopRow | undefined> {
  try {
    const [stat, status, cmdline] = await Promise.all([
      readFile(`${procRoot}/${pid}/stat`, 'utf8'),
      readFile(`${procRoot}/${pid}/status`, 'utf8'),
      readFile(`${procRoot}/${pid}/cmdline`),
    ]);
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const argv = cmdline.toString('utf8').split('\0');
    while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
    return {
      pid,
      user: users.get(uid) ?? String(uid),
      time: psTime(ticks / CLK_TCK),
      // A kernel thread or a zombie has no command line: ps shows [comm].
      cmd: argv.length > 0 ? argv.join(' ') : `[${comm}]`,
    };
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ESRCH')) return undefined;
    throw err;
  }
}
