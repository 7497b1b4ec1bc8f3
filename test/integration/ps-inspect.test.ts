import { describe, expect, it } from 'vitest';
import { corral, uniqueName } from '../support/corral.js';

describe('corral ps and inspect', () => {
  it('ps lists running containers, -a also stopped ones, as a table or JSON', async () => {
    const up = uniqueName('ps-up');
    const down = uniqueName('ps-down');
    await corral(['run', '-d', '--name', up, 'busybox', 'sleep', '300']);
    await corral(['run', '--name', down, 'busybox', 'sh', '-c', 'exit 3']);
    try {
      const table = await corral(['ps']);
      expect(table.stdout.split('\n')[0]).toMatch(/^CONTAINER ID\s+NAME\s+TEMPLATE\s+COMMAND\s+CREATED\s+STATUS/);
      expect(table.stdout).toContain(up);
      expect(table.stdout).not.toContain(down);
      const all = await corral(['ps', '-a']);
      expect(all.stdout).toMatch(new RegExp(`${down}.*Exited \\(3\\)`));
      const json = JSON.parse((await corral(['ps', '-a', '--format', 'json'])).stdout);
      expect(json.find((c: { name: string }) => c.name === down)).toMatchObject({ status: 'exited', exitCode: 3 });
      const quiet = await corral(['ps', '-q']);
      expect(quiet.stdout.split('\n')).toContain(json.find((c: { name: string }) => c.name === up).id.slice(0, 12));
    } finally {
      await corral(['rm', '-f', up, down]);
    }
  });

  it('inspect shows config, state, pid, timestamps, mounts and cgroup paths', async () => {
    const name = uniqueName('insp');
    await corral(['run', '-d', '--name', name, '-e', 'K=V', 'busybox', 'sleep', '300']);
    try {
      const [c] = JSON.parse((await corral(['inspect', name])).stdout);
      expect(c.name).toBe(name);
      expect(c.id).toMatch(/^[0-9a-f]{64}$/);
      expect(c.config).toMatchObject({ template: 'busybox', command: ['sleep', '300'], hostname: name });
      expect(c.config.env).toContain('K=V');
      expect(c.state).toMatchObject({ status: 'running', exitCode: null });
      expect(c.state.pid).toBeGreaterThan(1);
      expect(Date.parse(c.state.startedAt)).toBeGreaterThan(Date.parse(c.config.createdAt) - 1000);
      expect(c.mounts[0]).toMatchObject({ type: 'overlay', destination: '/' });
      expect(c.mounts.map((m: { destination: string }) => m.destination)).toEqual(expect.arrayContaining(['/proc', '/sys', '/dev', '/dev/pts', '/proc/kcore']));
      expect(c.cgroup.paths.length).toBeGreaterThan(0);
      expect(c.logPath).toMatch(/container\.log$/);
      await corral(['stop', '-t', '0', name]);
      const [after] = JSON.parse((await corral(['inspect', name])).stdout);
      expect(after.state).toMatchObject({ status: 'exited', exitCode: 137, pid: null });
      expect(Date.parse(after.state.finishedAt)).toBeGreaterThanOrEqual(Date.parse(after.state.startedAt));
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('template ls shows the busybox template', async () => {
    const r = await corral(['template', 'ls', '--format', 'json']);
    expect(JSON.parse(r.stdout).find((t: { name: string }) => t.name === 'busybox')).toMatchObject({ built: true });
  });
});
