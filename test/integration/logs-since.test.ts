import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, corral, envOf, installation, uniqueName, until } from '../support/corral.js';

describe('logs --since/--until/-n and events from now on', () => {
  it('logs picks lines by time (RFC 3339, Unix seconds, durations) and -n counts from the end', async () => {
    const name = uniqueName('since');
    // A second apart in the container's own time, so the three lines have distinct times.
    const r = await corral(['run', '--name', name, 'busybox', 'sh', '-c', 'echo one; sleep 1; echo two; sleep 1; echo three']);
    expect(r.exitCode).toBe(0);
    try {
      const stamped = (await corral(['logs', '-t', name])).stdout.trim().split('\n');
      expect(stamped.map((l) => l.split(' ')[1])).toEqual(['one', 'two', 'three']);
      const t2 = stamped[1]!.split(' ')[0]!;
      const lines = async (...args: string[]): Promise<string[]> => {
        const res = await corral(['logs', ...args, name]);
        expect(res.stderr).toBe('');
        return res.stdout.split('\n').filter(Boolean);
      };
      expect(await lines('--since', t2)).toEqual(['two', 'three']);
      expect(await lines('--until', t2)).toEqual(['one', 'two']);
      expect(await lines('--since', t2, '--until', t2)).toEqual(['two']);
      const unix = (Date.parse(t2) / 1000).toFixed(3);
      expect(await lines('--since', unix)).toEqual(['two', 'three']);
      expect(await lines('--since', '10m')).toEqual(['one', 'two', 'three']);
      expect(await lines('--until', '10m')).toEqual([]);
      expect(await lines('-n', '1')).toEqual(['three']);
      expect(await lines('--tail', '2', '--until', t2)).toEqual(['two']);
      const bad = await corral(['logs', '--since', 'yesterday', name]);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/yesterday/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('events without --since shows only what happens from then on; --since replays the journal', async () => {
    const name = uniqueName('evnew');
    await corral(['create', '--name', name, 'busybox', 'sleep', '300']);
    const child = spawn(process.execPath, [CLI, 'events', '--filter', `container=${name}`, '--format', '{{.Action}}'], { env: envOf(installation()), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    try {
      // Rename back and forth until the follower has seen one: it is listening from then on.
      let n = 0;
      await until('events to print a rename', async () => {
        await corral(['rename', n % 2 === 0 ? name : `${name}-x`, n % 2 === 0 ? `${name}-x` : name]);
        n++;
        return out.includes('rename') ? true : undefined;
      }, 30_000);
      expect(out).not.toMatch(/create/);
      const replay = await corral(['events', '--since', '10m', '--until', '0s', '--filter', `container=${name}`, '--filter', `container=${name}-x`, '--format', '{{.Action}}']);
      expect(replay.stdout.split('\n')[0]).toBe('create');
    } finally {
      child.kill('SIGTERM');
      await corral(['rm', '-f', name, `${name}-x`]);
    }
  });
});
