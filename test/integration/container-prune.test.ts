import { describe, expect, it } from 'vitest';
import { corral, uniqueName } from '../support/corral.js';

async function names(): Promise<string[]> {
  return (JSON.parse((await corral(['ps', '-a', '--format', 'json'])).stdout) as { name: string }[]).map((c) => c.name);
}

describe('corral container prune', () => {
  it('asks first, refuses without an answer, and then removes only stopped containers', async () => {
    const created = uniqueName('prune-created');
    const exited = uniqueName('prune-exited');
    const running = uniqueName('prune-running');
    const paused = uniqueName('prune-paused');
    try {
      await corral(['create', '--name', created, 'busybox', 'true']);
      expect((await corral(['run', '--name', exited, 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /big'])).exitCode).toBe(0);
      await corral(['run', '-d', '--name', running, 'busybox', 'sleep', '300']);
      await corral(['run', '-d', '--name', paused, 'busybox', 'sleep', '300']);
      expect((await corral(['pause', paused])).exitCode).toBe(0);
      const ids = Object.fromEntries(await Promise.all([created, exited].map(async (n) => [n, JSON.parse((await corral(['inspect', n])).stdout)[0].id as string])));

      // No stdin: nothing to confirm with, nothing removed.
      const refused = await corral(['container', 'prune']);
      expect(refused.exitCode).toBe(1);
      expect(refused.stdout).toMatch(/^WARNING! This will remove all stopped containers\.\nAre you sure you want to continue\? \[y\/N\] /);
      expect(refused.stderr).toMatch(/no confirmation on stdin: nothing removed \(use -f/);
      const no = await corral(['container', 'prune'], { input: 'n\n' });
      expect(no.exitCode).toBe(0);
      expect(await names()).toEqual(expect.arrayContaining([created, exited, running, paused]));

      const yes = await corral(['container', 'prune'], { input: 'y\n' });
      expect(yes.exitCode).toBe(0);
      const body = yes.stdout.slice(yes.stdout.indexOf('Deleted Containers:'));
      expect(body.split('\n').slice(1, 3).sort()).toEqual([ids[created], ids[exited]].sort());
      expect(body).toMatch(/\n\nTotal reclaimed space: 5kB\n$/);
      const left = await names();
      expect(left).toEqual(expect.arrayContaining([running, paused]));
      expect(left).not.toContain(created);
      expect(left).not.toContain(exited);

      const again = await corral(['container', 'prune', '-f']);
      expect(again).toMatchObject({ exitCode: 0, stdout: 'Total reclaimed space: 0B\n' });
      const json = await corral(['container', 'prune', '--force', '--format', 'json']);
      expect(JSON.parse(json.stdout)).toEqual({ deleted: [], spaceReclaimed: 0 });
    } finally {
      await corral(['rm', '-f', created, exited, running, paused]);
    }
  });
});
