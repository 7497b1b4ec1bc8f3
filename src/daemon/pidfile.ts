import { open, readFile, rm } from 'node:fs/promises';
import { isErrno, CorralError, fsError } from '../errors.js';
import { isSameProcess, processStartTime } from '../system/procfs.js';

/**
 * One corrald per run root: the pid file is created with O_EXCL and holds "pid starttime", so a
 * stale file from a dead daemon (or a reused pid) is recognized and replaced.
 */
export async function acquirePidFile(path: string): Promise<() => Promise<void>> {
  const me = `${process.pid} ${(await processStartTime(process.pid)) ?? 0}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(me);
      await fh.close();
      return async () => {
        const now = await readFile(path, 'utf8').catch(() => '');
        if (now === me) await rm(path, { force: true });
      };
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw fsError('create', path, err);
    }
    const [pid, start] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ').map(Number);
    if (pid && start !== undefined && (await isSameProcess(pid, start))) {
      throw new CorralError('conflict', `corrald is already running (pid ${pid}, pid file ${path})`, { pid });
    }
    await rm(path, { force: true });
  }
  throw new CorralError('conflict', `cannot take the pid file ${path}: another corrald is starting`);
}
