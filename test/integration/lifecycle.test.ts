import { describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName } from '../support/corral.js';

interface Summary { name: string; status: string; statusText: string; exitCode: number | null; pid: number | null }

async function summary(name: string): Promise<Summary | undefined> {
  const r = await corral(['ps', '-a', '--format', 'json']);
  return (JSON.parse(r.stdout) as Summary[]).find((c) => c.name === name);
}

describe('create, start, stop, restart, kill, rm', () => {
  it('create makes a stopped container that start runs', async () => {
    const name = uniqueName('life');
    const created = await corral(['create', '--name', name, 'busybox', 'sleep', '300']);
    expect(created.exitCode).toBe(0);
    expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(await summary(name)).toMatchObject({ status: 'created', statusText: 'Created' });
    try {
      expect((await corral(['start', name])).exitCode).toBe(0);
      const s = await summary(name);
      expect(s?.status).toBe('running');
      expect(s?.statusText).toMatch(/^Up /);
      // Docker's `start` of a running container is a no-op that succeeds (start.test.ts).
      expect((await corral(['start', name])).exitCode).toBe(0);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('stop sends SIGTERM, then SIGKILL when the grace time ends', async () => {
    const name = uniqueName('stop');
    // PID 1 without a handler ignores SIGTERM: stop must fall back to SIGKILL.
    await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    try {
      const t0 = Date.now();
      expect((await corral(['stop', '-t', '1', name])).exitCode).toBe(0);
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(900);
      const st = (await inspect(name)).state;
      expect(st).toMatchObject({ status: 'exited', exitCode: 137, signal: 9 });
      expect(st.finishedAt).toBeTruthy();
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('stop lets a program that handles SIGTERM exit cleanly', async () => {
    const name = uniqueName('term');
    await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'trap "exit 3" TERM; while true; do sleep 0.1; done']);
    try {
      await corral(['stop', '-t', '20', name]);
      // 3 is the trap's code: SIGTERM was handled (SIGKILL after the timeout would give 137).
      expect((await inspect(name)).state.exitCode).toBe(3);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('--init forwards SIGTERM to the program', async () => {
    const name = uniqueName('init');
    await corral(['run', '-d', '--init', '--name', name, 'busybox', 'sleep', '300']);
    try {
      await corral(['stop', '-t', '20', name]);
      // 143: the program died of the forwarded SIGTERM, not of the SIGKILL after the timeout (137).
      expect((await inspect(name)).state.exitCode).toBe(143);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('restart gives a new PID 1 and keeps the writable layer', async () => {
    const name = uniqueName('restart');
    await corral(['run', '-d', '--init', '--name', name, 'busybox', 'sh', '-c', 'echo run >> /runs; exec sleep 300']);
    try {
      const pid1 = (await inspect(name)).state.pid;
      expect((await corral(['restart', '-t', '1', name])).exitCode).toBe(0);
      const st = (await inspect(name)).state;
      expect(st.status).toBe('running');
      expect(st.pid).not.toBe(pid1);
      expect((await corral(['exec', name, 'cat', '/runs'])).stdout).toBe('run\nrun\n');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('kill sends the signal asked for', async () => {
    const name = uniqueName('kill');
    await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'trap "exit 7" USR1; while true; do sleep 0.1; done']);
    try {
      expect((await corral(['kill', '-s', 'USR1', name])).exitCode).toBe(0);
      for (let i = 0; i < 50 && (await summary(name))?.status === 'running'; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await inspect(name)).state.exitCode).toBe(7);
      const again = await corral(['kill', name]);
      expect(again.exitCode).not.toBe(0);
      expect(again.stderr).toMatch(/not running/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('rm refuses a running container without -f, and -f removes it', async () => {
    const name = uniqueName('rmf');
    await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    const refused = await corral(['rm', name]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/running: stop it first, or use --force/);
    const pid = (await inspect(name)).state.pid as number;
    expect((await corral(['rm', '-f', name])).exitCode).toBe(0);
    expect(await summary(name)).toBeUndefined();
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    expect(alive).toBe(false);
  });
});
