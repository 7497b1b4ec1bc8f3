import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, uniqueName } from '../support/corral.js';

describe('corral system df', () => {
  it('shows templates, containers and volumes with sizes, as a table and as JSON', async () => {
    const stopped = uniqueName('df-stopped');
    const running = uniqueName('df-running');
    const dir = mkdtempSync(join(tmpdir(), 'corral-df-'));
    try {
      expect((await corral(['run', '--name', stopped, 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /big'])).exitCode).toBe(0);
      expect((await corral(['run', '-d', '--name', running, '-v', `${dir}:/data`, 'busybox', 'sleep', '300'])).exitCode).toBe(0);

      const du = JSON.parse((await corral(['system', 'df', '--format', 'json'])).stdout);
      const busybox = du.templates.find((t: { name: string }) => t.name === 'busybox');
      expect(busybox.size).toBeGreaterThan(100_000);
      expect(busybox.containers).toBeGreaterThanOrEqual(2);
      expect(du.containers.find((c: { name: string }) => c.name === stopped)).toMatchObject({ status: 'exited', size: 5000, template: 'busybox' });
      expect(du.containers.find((c: { name: string }) => c.name === running)).toMatchObject({ status: 'running', size: 0 });
      expect(du.volumes).toContainEqual({ source: dir, target: '/data', containers: [running], size: null });

      const table = await corral(['system', 'df']);
      expect(table.exitCode).toBe(0);
      const rows = table.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));
      expect(rows[0]).toEqual(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']);
      expect(rows[1]![0]).toBe('Templates');
      const containers = rows.find((r) => r[0] === 'Containers')!;
      expect(Number(containers[1])).toBe(du.containers.length);
      expect(Number(containers[2])).toBeGreaterThanOrEqual(1);
      // The stopped one's 5 kB are reclaimable.
      expect(containers[4]).toMatch(/^5kB \(\d+%\)$/);
      expect(rows.find((r) => r[0] === 'Volumes')!.slice(3)).toEqual(['-', '-']);

      const verbose = await corral(['system', 'df', '-v']);
      expect(verbose.stdout).toMatch(new RegExp(`busybox\\s+exited\\s+5kB\\s+${stopped}`));
    } finally {
      await corral(['rm', '-f', stopped, running]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
