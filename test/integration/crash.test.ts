import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON, ROOT, corral, daemonArgs, daemonPid, installation, sleep, stopDaemon, uniqueName, waitForSocket } from '../support/corral.js';

/** A corrald of this installation that SIGKILLs itself at `point`. */
async function crashingDaemon(point: string): Promise<{ exited: Promise<string | null> }> {
  await stopDaemon();
  const inst = installation();
  const child = spawn(process.execPath, [DAEMON, ...daemonArgs(inst)], {
    cwd: ROOT,
    env: { ...process.env, CORRAL_CRASH_AT: point, CORRAL_RESTART_BACKOFF_BASE: '200ms' },
    stdio: 'ignore',
  });
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // Its socket replaces the old one once it listens.
  const sock = join(inst.runRoot, 'corrald.sock');
  for (let i = 0; i < 100 && daemonPid() !== child.pid; i++) await sleep(50);
  await waitForSocket(inst, child);
  expect(existsSync(sock)).toBe(true);
  return { exited };
}

function cgroupDirs(id: string): string[] {
  return readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, installation().cgroupParent, id)).filter((p) => existsSync(p));
}

function containerEntries(): string[] {
  const d = join(installation().dataRoot, 'containers');
  return existsSync(d) ? readdirSync(d) : [];
}

describe('crash safety: corrald killed inside an operation leaves nothing half-made', () => {
  it.each(['create:prepared', 'create:etc-written'])('create, killed at %s, is rolled back at the next start', async (point) => {
    const before = containerEntries();
    const d = await crashingDaemon(point);
    const name = uniqueName('crash-create');
    const r = await corral(['create', '--name', name, 'busybox']);
    expect(r.exitCode).not.toBe(0);
    expect(await d.exited).toBe('SIGKILL');
    // The next command starts a clean corrald, which finishes the repair.
    expect((await corral(['ps', '-a'])).stdout).not.toContain(name);
    expect(containerEntries()).toEqual(before);
    // The name is free again.
    expect((await corral(['create', '--name', name, 'busybox'])).exitCode).toBe(0);
    await corral(['rm', name]);
  });

  it('create, killed right after its commit point, is kept whole', async () => {
    const d = await crashingDaemon('create:committed');
    const name = uniqueName('crash-commit');
    await corral(['create', '--name', name, 'busybox', 'echo', 'kept']);
    expect(await d.exited).toBe('SIGKILL');
    const r = await corral(['start', name]);
    expect(r.exitCode).toBe(0);
    await sleep(500);
    expect((await corral(['logs', name])).stdout).toBe('kept\n');
    await corral(['rm', '-f', name]);
  });

  it.each(['start:cgroup-created', 'start:monitor-spawned'])('start, killed at %s, leaves no orphan and a consistent state', async (point) => {
    const name = uniqueName('crash-start');
    await corral(['create', '--name', name, 'busybox', 'sleep', '300']);
    const id = JSON.parse((await corral(['inspect', name])).stdout)[0].id as string;
    const d = await crashingDaemon(point);
    await corral(['start', name]);
    expect(await d.exited).toBe('SIGKILL');
    const state = JSON.parse((await corral(['inspect', name])).stdout)[0].state;
    if (point === 'start:monitor-spawned') {
      // The monitor got going on its own: the new corrald adopts a running container.
      expect(state.status).toBe('running');
      expect(cgroupDirs(id).length).toBeGreaterThan(0);
    } else {
      expect(state.status).toBe('created');
      expect(cgroupDirs(id)).toEqual([]);
    }
    expect((await corral(['rm', '-f', name])).exitCode).toBe(0);
    expect(cgroupDirs(id)).toEqual([]);
  });

  it.each(['remove:cgroup-removed', 'remove:renamed-to-trash'])('rm, killed at %s, is finished at the next start', async (point) => {
    const name = uniqueName('crash-rm');
    await corral(['run', '--name', name, 'busybox', 'true']);
    const id = JSON.parse((await corral(['inspect', name])).stdout)[0].id as string;
    const d = await crashingDaemon(point);
    await corral(['rm', name]);
    expect(await d.exited).toBe('SIGKILL');
    const ps = await corral(['ps', '-a']);
    if (point === 'remove:renamed-to-trash') expect(ps.stdout).not.toContain(name);
    else await corral(['rm', name]);
    expect((await corral(['ps', '-a'])).stdout).not.toContain(name);
    expect(containerEntries().filter((e) => e.includes(id))).toEqual([]);
    expect(cgroupDirs(id)).toEqual([]);
  });
});
