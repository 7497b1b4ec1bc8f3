import { describe, expect, it } from 'vitest';
import { corral, stopDaemon, uniqueName } from '../support/corral.js';

async function eventsOf(name: string): Promise<{ type: string; attributes: Record<string, unknown> }[]> {
  const r = await corral(['events', '--since', '10m', '--until', '0s', '--filter', `container=${name}`, '--format', 'json']);
  expect(r.exitCode).toBe(0);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('corral events', () => {
  it('records the lifecycle, with the exit code and OOM, and keeps it across a daemon restart', async () => {
    const name = uniqueName('ev');
    await corral(['run', '--name', name, '-m', '32m', '--memory-swap', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=128M', 'count=1']);
    await corral(['rm', name]);
    const before = await eventsOf(name);
    expect(before.map((e) => e.type)).toEqual(['create', 'start', 'oom', 'die', 'destroy']);
    expect(before.find((e) => e.type === 'die')?.attributes).toMatchObject({ exitCode: 137, oomKilled: true });
    expect(String(before.find((e) => e.type === 'oom')?.attributes.message)).toMatch(/memory limit reached: --memory 32m/);

    // Stop corrald by its pid; the next command starts a new one, which reads the journal.
    await stopDaemon();
    expect((await eventsOf(name)).map((e) => e.type)).toEqual(['create', 'start', 'oom', 'die', 'destroy']);
  });

  it('records stop, kill and update with what changed', async () => {
    const name = uniqueName('ev2');
    await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '100']);
    await corral(['update', '--pids-limit', '50', name]);
    await corral(['kill', '-s', 'TERM', name]);
    await corral(['stop', '-t', '0', name]);
    await corral(['rm', name]);
    const ev = await eventsOf(name);
    expect(ev.map((e) => e.type)).toEqual(['create', 'start', 'update', 'kill', 'die', 'stop', 'destroy']);
    expect(ev.find((e) => e.type === 'update')?.attributes).toEqual({ pidsLimit: '50' });
    expect(ev.find((e) => e.type === 'kill')?.attributes).toEqual({ signal: 'SIGTERM' });
  });

  it('refuses a bad filter or time', async () => {
    expect((await corral(['events', '--filter', 'colour=red', '--until', '0s'])).stderr).toMatch(/--filter colour=red/);
    expect((await corral(['events', '--since', 'yesterday', '--until', '0s'])).stderr).toMatch(/since "yesterday"/);
  });
});
