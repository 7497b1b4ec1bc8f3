import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHIM, corral, installation } from '../support/corral.js';
import { processStartTimeSync } from '../../src/system/procfs.js';

/**
 * The monitor's exit record on a full disk (docs/shim.md, exit.json): the monitor is driven
 * directly, as corrald starts it, with its state dir, log and exit notification on a 4 MiB tmpfs
 * made here; the test fills that tmpfs, then SIGKILLs the container's PID 1.
 */

/** Field 22 of /proc/PID/stat, as the monitor reports it (text). */
const starttime = (pid: number): string | undefined => processStartTimeSync(pid)?.toString();

/** The monitor's first report line (`started PID START` or `failed …`). */
function reportLine(monitor: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    monitor.stdout!.setEncoding('utf8');
    monitor.stdout!.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
    });
    monitor.stdout!.on('end', () => reject(new Error(`monitor report ended without a line: ${JSON.stringify(buf)}`)));
  });
}

/** Writes zeros to `file` until the filesystem refuses: ENOSPC. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('exit record on a full disk', () => {
  it('a container killed while the state dir\'s filesystem is full still gets exit.json with 137 / signal 9', async () => {
    const info = JSON.parse((await corral(['template', 'inspect', 'busybox'])).stdout);
    const lower = (Array.isArray(info) ? info[0] : info).path as string;
    const base = mkdtempSync('/var/tmp/corral-exitrec-');
    const full = join(base, 'full');
    for (const d of ['upper', 'work', 'rootfs', 'full']) mkdirSync(join(base, d));
    let mounted = false;
    let monitor: ChildProcess | undefined;
    let pid1: { pid: number; start: string } | undefined;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', full]);
      mounted = true;
      const state = join(full, 'state');
      const notify = join(full, 'exits', 'fullbox');
      mkdirSync(state);
      mkdirSync(join(full, 'exits'));
      monitor = spawn(SHIM, [
        'monitor', '--id', 'fullbox', '--state-dir', state, '--log', join(state, 'container.log'), '--exit-notify', notify,
        '--', 'unshare', '--mount', '--uts', '--ipc', '--net', '--cgroup', '--pid', '--propagation', 'private', '--',
        SHIM, 'init', '--rootfs', join(base, 'rootfs'), '--lower', lower, '--upper', join(base, 'upper'), '--work', join(base, 'work'),
        '--hostname', 'fullbox', '--env', 'PATH=/bin:/usr/bin', '--', 'sleep', '1000',
      ], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
      const exited = new Promise<void>((r) => monitor!.once('exit', () => r()));
      const line = await reportLine(monitor);
      const m = /^started (\d+) (\d+)$/.exec(line);
      expect(m, line).not.toBeNull();
      pid1 = { pid: Number(m![1]), start: m![2]! };

      expect(fill(join(full, 'filler'))).toBeGreaterThan(0);
      expect(() => writeFileSync(join(full, 'probe'), 'x')).toThrow(/ENOSPC/);

      process.kill(pid1.pid, 'SIGKILL');
      await exited;
      const exit = JSON.parse(readFileSync(join(state, 'exit.json'), 'utf8'));
      expect(exit).toMatchObject({ pid: pid1.pid, exitCode: 137, signal: 9, error: null });
      expect(existsSync(notify)).toBe(true);
      expect(existsSync(join(state, 'exit.json.reserve'))).toBe(false);
    } finally {
      if (pid1 && starttime(pid1.pid) === pid1.start) process.kill(pid1.pid, 'SIGKILL');
      if (monitor && monitor.exitCode === null && monitor.signalCode === null) {
        await new Promise<void>((r) => {
          monitor!.once('exit', () => r());
          setTimeout(() => {
            monitor!.kill('SIGKILL');
            r();
          }, 5000);
        });
      }
      if (mounted) execFileSync('umount', [full]);
      rmSync(base, { recursive: true, force: true });
    }
  });
});
