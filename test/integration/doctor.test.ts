import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, DAEMON, corral } from '../support/corral.js';

describe('corral doctor', () => {
  it('reports every check of this host, without needing corrald', async () => {
    const r = await corral(['doctor', '--format', 'json']);
    expect(r.exitCode).toBe(0);
    const checks = JSON.parse(r.stdout) as { name: string; status: string; detail: string }[];
    expect(checks.map((c) => c.name)).toEqual(['root', 'kernel', 'namespaces', 'overlayfs', 'unshare', 'corral-shim', 'cgroups', 'data root', 'lxcfs', 'disk quotas']);
    expect(checks.every((c) => c.status !== 'fail')).toBe(true);
    expect(checks.find((c) => c.name === 'cgroups')?.detail).toMatch(/^(v2 at|hybrid|legacy v1)/);
  });

  describe('a data root on overlayfs', () => {
    // Our own overlay mount in a temp dir stands in for Docker's overlay root.
    const base = mkdtempSync('/var/tmp/corral-doctor-');
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(base, d));
    afterAll(async () => {
      await execa('umount', [join(base, 'merged')], { reject: false });
      rmSync(base, { recursive: true, force: true });
    });

    it('is named by doctor, and corrald refuses to start on it', async () => {
      await execa('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`, join(base, 'merged')]);
      const dataRoot = join(base, 'merged', 'corral');
      const doc = await execa(process.execPath, [CLI, '--data-root', dataRoot, 'doctor'], { reject: false });
      expect(doc.exitCode).toBe(1);
      expect(doc.stdout).toMatch(/data root\s+fail\s+.*is on overlayfs, which cannot host containers' overlay upper layers/);
      const d = await execa(process.execPath, [DAEMON, '--data-root', dataRoot, '--run-root', join(base, 'run')], { reject: false, timeout: 20_000 });
      expect(d.exitCode).toBe(1);
      expect(d.stderr).toMatch(/corrald: .*is on overlayfs.*--data-root/);
    });
  });
});
