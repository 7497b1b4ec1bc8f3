import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, corral, envOf, installation, stopDaemon, uniqueName } from '../support/corral.js';

/**
 * The CLI's edges from issue 9, through the real binary: a reader that goes away, an unknown
 * option before a command with `-h`, and roots that the corrald on the socket does not serve.
 */

interface Piped {
  /** Resolves with the first line the CLI printed; the test's end of the pipe is then closed. */
  firstLine: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Runs the CLI with stdout to a pipe that we close after the first line, as `| head -1` does. */
function pipedToHead(args: string[]): Piped {
  const child = spawn(process.execPath, [CLI, ...args], { env: envOf(installation()), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (s: string) => {
      out += s;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout.off('data', onData);
      child.stdout.destroy(); // the reader goes away: the CLI's next write gets EPIPE
      resolve(out.slice(0, nl));
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.once('close', () => reject(new Error(`the CLI exited before printing a line: ${stderr}`)));
  });
  return { firstLine, exit };
}

describe('a closed pipe ends the CLI quietly', () => {
  it('corral logs X | head -1', async () => {
    const name = uniqueName('epipe');
    // ~1.3 MB of output: far more than a pipe holds, so the CLI is still writing when we close.
    expect((await corral(['run', '--name', name, 'busybox', 'seq', '1', '200000'], { timeoutMs: 120_000 })).exitCode).toBe(0);
    try {
      const p = pipedToHead(['logs', name]);
      expect(await p.firstLine).toBe('1');
      const r = await p.exit;
      expect(r.stderr).toBe('');
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('corral events | head -1', async () => {
    const name = uniqueName('epipe-ev');
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const p = pipedToHead(['events', '--since', since, '--filter', `container=${name}`]);
    try {
      expect((await corral(['create', '--name', name, 'busybox', 'true'])).exitCode).toBe(0);
      expect(await p.firstLine).toMatch(/ container create /);
      // The next event is the CLI's next write, into a pipe nobody reads any more.
      expect((await corral(['rm', name])).exitCode).toBe(0);
      const r = await p.exit;
      expect(r.stderr).toBe('');
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});

describe('options before the template', () => {
  it('an unknown one is refused even when the command has -h, and nothing is created', async () => {
    const before = readdirSync(join(installation().dataRoot, 'containers')).length;
    const r = await corral(['run', '--rm', '--frobnicate', '/s', 'busybox', 'df', '-h', '/s']);
    expect(r).toEqual({ exitCode: 125, stdout: '', stderr: "corral: unknown option '--frobnicate'\n" });
    expect(readdirSync(join(installation().dataRoot, 'containers')).length).toBe(before);
  });

  it('after the template, -h is the command\'s', async () => {
    const r = await corral(['run', '--rm', 'busybox', 'df', '-h', '/']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Filesystem\s+Size/);
  });

  it('a mistyped command is not pointed at a destructive one', async () => {
    // (`top` and `pull` were the examples before Corral had those verbs.)
    expect(await corral(['kil', 'web'])).toEqual({ exitCode: 2, stdout: '', stderr: "corral: unknown command 'kil'\n" });
    expect(await corral(['rmm', 'busybox'])).toEqual({ exitCode: 2, stdout: '', stderr: "corral: unknown command 'rmm'\n" });
  });
});

describe('roots the corrald on the socket does not serve', () => {
  it('--data-root of another directory with the same run root is refused, naming both', async () => {
    const inst = installation();
    const other = mkdtempSync(join(tmpdir(), 'corral-other-'));
    try {
      const r = await corral(['--data-root', other, 'ps', '-a']);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`corral: the corrald on ${join(inst.runRoot, 'corrald.sock')} (pid `);
      expect(r.stderr).toContain(`serves data root ${inst.dataRoot}, not ${other} (--data-root)`);
      expect(r.stderr).toMatch(/its own --run-root, or stop that corrald/);
      expect(readdirSync(other)).toEqual([]);
      // For run, as for any failure of run itself, 125; nothing is created.
      expect((await corral(['--cgroup-parent', 'elsewhere', 'run', '--rm', 'busybox', 'true'])).exitCode).toBe(125);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('the roots it serves, given explicitly, are fine; also when the CLI starts corrald itself', async () => {
    const inst = installation();
    const flags = ['--data-root', inst.dataRoot, '--run-root', inst.runRoot, '--cgroup-parent', inst.cgroupParent];
    expect((await corral([...flags, 'ps'])).exitCode).toBe(0);
    await stopDaemon();
    try {
      const r = await corral([...flags, 'ps']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    } finally {
      // Stop the corrald this CLI started, by its pid, and wait until it is gone: the next
      // command (another file's) starts one again, as after events.test.ts's restart.
      await stopDaemon();
    }
  });
});
