import { describe, expect, it } from 'vitest';
import { corral, uniqueName } from '../support/corral.js';

describe('corral system prune', () => {
  it('asks first (nothing removed without an answer), then removes stopped containers and, with --volumes, unused volumes', async () => {
    const name = uniqueName('sysprune');
    const vol = uniqueName('sysprune-vol');
    const kept = uniqueName('sysprune-kept');
    expect((await corral(['create', '--name', name, '-v', `${vol}:/data`, 'busybox', 'true'])).exitCode).toBe(0);
    expect((await corral(['run', '-d', '--name', kept, 'busybox', 'sleep', '1000'])).exitCode).toBe(0);
    try {
      const asked = await corral(['system', 'prune', '--volumes']);
      expect(asked.exitCode).not.toBe(0);
      expect(asked.stderr).toMatch(/no confirmation on stdin: nothing removed/);
      expect((await corral(['inspect', name])).exitCode).toBe(0);
      const r = await corral(['system', 'prune', '--volumes', '-f', '--format', 'json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.containers.deleted.map((c: { name: string }) => c.name)).toContain(name);
      // The container went first, so its volume was unused by then.
      expect(report.volumes.removed).toContain(vol);
      expect(report.templates).toEqual([]);
      expect((await corral(['inspect', name])).exitCode).not.toBe(0);
      expect((await corral(['inspect', kept])).exitCode).toBe(0);
    } finally {
      await corral(['rm', '-f', name, kept]);
      await corral(['volume', 'rm', vol]);
    }
  });
});
