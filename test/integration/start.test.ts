import { describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName } from '../support/corral.js';

describe('corral start', () => {
  it('of a running container does nothing and succeeds, as Docker', async () => {
    const name = uniqueName('start-again');
    expect((await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    try {
      const before = (await inspect(name)).state;
      expect(before.status).toBe('running');
      const again = await corral(['start', name]);
      expect(again).toMatchObject({ exitCode: 0, stdout: `${name}\n`, stderr: '' });
      // The same PID 1: nothing was restarted.
      expect((await inspect(name)).state).toMatchObject({ status: 'running', pid: before.pid, startedAt: before.startedAt });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('still reports each container it could not start', async () => {
    const name = uniqueName('start-mixed');
    expect((await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    try {
      const r = await corral(['start', name, `no-such-${name}`]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe(`${name}\n`);
      expect(r.stderr).toMatch(/no such container/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
