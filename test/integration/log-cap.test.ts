import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, DAEMON, ROOT, corral, daemonArgs, daemonPid, envOf, inspect, installation, sleep, stopDaemon, uniqueName, waitForSocket } from '../support/corral.js';

/**
 * The log cap (docs/operations.md): this file's corrald runs with a 64 KiB × 3 cap
 * (CORRAL_LOG_MAX_SIZE/FILES in its environment); afterwards it is stopped, and the next command
 * starts one with the defaults, as crash.test.ts does.
 */
const MAX_SIZE = 64 * 1024;
const MAX_FILES = 3;
/** The longest record: a 16 KiB chunk and its header. */
const RECORD = 16 * 1024 + 64;

async function cappedDaemon(): Promise<void> {
  await stopDaemon();
  const inst = installation();
  const child = spawn(process.execPath, [DAEMON, ...daemonArgs(inst)], {
    cwd: ROOT,
    env: { ...process.env, ...envOf(inst), CORRAL_LOG_MAX_SIZE: String(MAX_SIZE), CORRAL_LOG_MAX_FILES: String(MAX_FILES) },
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  for (let i = 0; i < 100 && daemonPid() !== child.pid; i++) await sleep(50);
  await waitForSocket(inst, child);
}

/** The container's log files and their sizes. */
function logFiles(id: string): Record<string, number> {
  const dir = join(installation().dataRoot, 'containers', id);
  const out: Record<string, number> = {};
  for (const n of readdirSync(dir).filter((n) => n.startsWith('container.log'))) out[n] = statSync(join(dir, n)).size;
  return out;
}

const numbered = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => `line${from + i}\n`).join('');

describe('log cap and rotation', () => {
  beforeAll(cappedDaemon, 60_000);
  afterAll(stopDaemon, 30_000);

  it('keeps at most max-size × max-file bytes of a fast writer, and logs/--tail read across the files', async () => {
    const name = uniqueName('logcap');
    const N = 200_000; // ~2 MB of records, 30 times the cap
    const r = await corral(['run', '--name', name, 'busybox', 'sh', '-c', `i=0; while [ $i -lt ${N} ]; do echo line$i; i=$((i+1)); done`], { timeoutMs: 120_000 });
    try {
      expect(r.exitCode).toBe(0);
      const id = (await inspect(name)).id as string;
      const files = logFiles(id);
      expect(Object.keys(files).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
      const total = Object.values(files).reduce((a, b) => a + b, 0);
      expect(total).toBeLessThanOrEqual(MAX_SIZE * MAX_FILES + RECORD);
      for (const size of Object.values(files)) expect(size).toBeLessThanOrEqual(MAX_SIZE);

      const tail = await corral(['logs', '--tail', '2', name]);
      expect(tail.exitCode).toBe(0);
      expect(tail.stdout).toBe(numbered(N - 2, N - 1));
      // Everything kept, oldest file first: an unbroken run of lines ending with the last.
      const all = (await corral(['logs', name])).stdout;
      const first = Number(/^line(\d+)\n/.exec(all)?.[1]);
      expect(first).toBeGreaterThan(0);
      expect(all).toBe(numbered(first, N - 1));
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('reads a log past 2 GiB (one written before the cap) with --tail and whole', async () => {
    const name = uniqueName('logcap-huge');
    expect((await corral(['create', '--name', name, 'busybox', 'true'])).exitCode).toBe(0);
    try {
      const id = (await inspect(name)).id as string;
      // Sparse: just past 2 GiB of holes (one "line" of NULs the parser skips), then real records.
      const fd = openSync(join(installation().dataRoot, 'containers', id, 'container.log'), 'w');
      try {
        const records = [1, 2, 3].map((n) => `2026-01-01T00:00:0${n}.000000000Z stdout F huge${n}\n`).join('');
        writeSync(fd, `\n${records}`, 2 * 1024 ** 3 + 64 * 1024 ** 2);
      } finally {
        closeSync(fd);
      }
      const tail = await corral(['logs', '--tail', '2', name]);
      expect(tail.stderr).toBe('');
      expect(tail.stdout).toBe('huge2\nhuge3\n');
      // Past the holes: read through in chunks (no 2 GiB buffer), the NUL "line" dropped.
      for (const args of [['--tail', '100'], []]) {
        const r = await corral(['logs', ...args, name], { timeoutMs: 120_000 });
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe('huge1\nhuge2\nhuge3\n');
      }
    } finally {
      await corral(['rm', '-f', name]);
    }
  }, 180_000);

  it('follows a running container across rotations', async () => {
    const name = uniqueName('logcap-follow');
    // At most ~45 KiB/s, so what is kept (192 KiB) outlasts the CLI's start; 3 rotations in all.
    const N = 5000;
    const run = await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', `i=0; while [ $i -lt ${N} ]; do echo line$i; i=$((i+1)); [ $((i % 20)) = 0 ] && usleep 20000; done; true`]);
    try {
      expect(run.exitCode).toBe(0);
      const f = await execa(process.execPath, [CLI, 'logs', '-f', name], { env: envOf(installation()), reject: false, timeout: 120_000 });
      expect(f.exitCode).toBe(0);
      expect(f.stdout + '\n').toBe(numbered(0, N - 1));
      const id = (await inspect(name)).id as string;
      expect(existsSync(join(installation().dataRoot, 'containers', id, 'container.log.2'))).toBe(true);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
