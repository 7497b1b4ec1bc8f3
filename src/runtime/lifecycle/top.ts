import { readFile } from 'node:fs/promises';
import type { ContainerTop } from '../../api/types.js';
import { ValidationError } from '../../errors.js';
import { parsePasswd, topRow } from '../../system/proc-top.js';
import { ExecaRunner, type Runner } from '../../system/runner.js';
import { assertCan } from '../status.js';
import type { Runtime } from './context.js';
import { visibleState } from './inspect.js';

/**
 * Docker's `top`: the processes in the container's cgroup. Without ps options, PID USER TIME CMD
 * read from /proc; with them, the host's `ps` run with those options and cut to the container's
 * rows by its PID column, as Docker does.
 */
export async function topContainer(rt: Runtime, ref: string, psArgs: readonly string[], runner: Runner = new ExecaRunner()): Promise<ContainerTop> {
  const c = rt.resolve(ref);
  const s = await visibleState(rt, c.id);
  if (s.status !== 'paused') assertCan(c.name, s.status, 'exec');
  const pids = (await rt.deps.cgroups.pids(c.id)).sort((a, b) => a - b);
  if (psArgs.length === 0) {
    const users = parsePasswd(await readFile('/etc/passwd', 'utf8').catch(() => ''));
    const rows = (await Promise.all(pids.map((p) => topRow(p, users, rt.processes.procRoot)))).filter((r) => r !== undefined);
    return { titles: ['PID', 'USER', 'TIME', 'CMD'], processes: rows.map((r) => [String(r.pid), r.user, r.time, r.cmd]) };
  }
  for (const a of psArgs) if (typeof a !== 'string' || a.includes('\0')) throw new ValidationError('top: invalid ps option');
  // ps selects by default only the caller's own processes (euid and terminal); a container's, in
  // its own user namespace, are another uid's: select every process unless the options choose.
  const selects = psArgs.some((a) => /^-[^-]*[eAapgGuUt]/.test(a) || /^[a-zA-Z]*[ax][a-zA-Z]*$/.test(a));
  const out = await runner.run('ps', selects ? psArgs : ['-e', ...psArgs]);
  return filterPs(out.stdout, new Set(pids));
}

/** Keep the header and the rows whose PID column names one of `pids`. */
export function filterPs(stdout: string, pids: ReadonlySet<number>): ContainerTop {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift() ?? '';
  const titles = header.trim().split(/\s+/);
  const at = titles.indexOf('PID');
  if (at < 0) throw new ValidationError(`top: the ps options give no PID column (titles: ${titles.join(' ')})`);
  const processes: string[][] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    // The last column (the command) may hold spaces: everything after the other columns is it.
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (pids.has(Number(row[at]))) processes.push(row);
  }
  return { titles, processes };
}
