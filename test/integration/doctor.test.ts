import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, DAEMON, corral, daemonPid } from '../support/corral.js';

type Check = { name: string; status: string; detail: string; fix?: string };

describe('corral doctor', () => {
  it('reports every check of this host, without needing corrald', async () => {
    const r = await corral(['doctor', '--format', 'json']);
    expect(r.exitCode).toBe(0);
    const checks = JSON.parse(r.stdout) as Check[];
    expect(checks.map((c) => c.name)).toEqual([
      'root', 'kernel', 'namespaces', 'overlayfs', 'unshare', 'corral-shim', 'cgroups', 'data root', 'lxcfs', 'disk quotas',
      'user namespaces', 'idmapped mounts', 'userns default', 'seccomp', 'cgroup isolation', 'bridge filter',
    ]);
    expect(checks.every((c) => c.status !== 'fail')).toBe(true);
    expect(checks.find((c) => c.name === 'cgroups')?.detail).toMatch(/^(v2 at|hybrid|legacy v1)/);
  });

  it('reports the isolation this host gives a container, found by asking the kernel', async () => {
    const checks = JSON.parse((await corral(['doctor', '--format', 'json'])).stdout) as Check[];
    const by = (n: string): Check => checks.find((c) => c.name === n)!;
    // The tier's data root is on this host's ext4, where the shim's probe idmaps and overlays a lower.
    expect(by('user namespaces')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^up to \d+ \(user.max_user_namespaces\)/) });
    expect(by('idmapped mounts')).toMatchObject({ status: 'ok', detail: expect.stringContaining('(ext4) can be idmapped and used as an overlay lower') });
    // The tier's corrald answers, with its own default.
    expect(by('userns default')).toMatchObject({ status: 'ok', detail: expect.stringContaining(`private (corrald pid ${daemonPid()})`) });
    // The default profile was compiled and loaded, and refused keyctl.
    expect(by('seccomp')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^the default profile compiles \(\d+ BPF instructions/) });
    expect(by('cgroup isolation').detail).toMatch(/each container has its own cgroup in .*(devices|v2)/);
    expect(by('bridge filter')).toMatchObject({ status: 'ok', detail: expect.stringContaining('ARP or IP spoofing') });
    // The probes leave nothing behind in the data root's filesystem.
    const dataRoot = JSON.parse((await corral(['doctor', '--format', 'json'])).stdout).find((c: Check) => c.name === 'data root').detail.split(' ')[0];
    expect(readdirSync(dataRoot).filter((f) => f.startsWith('.corral-probe-'))).toEqual([]);
  });

  describe('a data root that cannot be idmapped (ramfs)', () => {
    const base = mkdtempSync('/var/tmp/corral-doctor-ramfs-');
    afterAll(async () => {
      await execa('umount', [join(base, 'data')], { reject: false });
      rmSync(base, { recursive: true, force: true });
    });

    it('says containers with their own user namespace cannot start there, and what --default-userns host means', async () => {
      mkdirSync(join(base, 'data'));
      await execa('mount', ['-t', 'ramfs', 'ramfs', join(base, 'data')]);
      const doc = async (env: Record<string, string>): Promise<Check[]> => {
        const r = await execa(process.execPath, [CLI, '--data-root', join(base, 'data'), '--run-root', join(base, 'run'), 'doctor', '--format', 'json'], { reject: false, env: { CORRAL_DEFAULT_USERNS: '', ...env } });
        return JSON.parse(String(r.stdout)) as Check[];
      };
      const checks = await doc({});
      const by = (n: string): Check => checks.find((c) => c.name === n)!;
      expect(by('idmapped mounts')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/cannot be idmapped \(.*mount_setattr: Invalid argument\): containers with their own user namespace cannot start here/) });
      expect(by('userns default')).toMatchObject({ status: 'fail', detail: expect.stringContaining('no corrald answers at') });
      expect(readdirSync(join(base, 'data'))).toEqual([]);
      const host = (await doc({ CORRAL_DEFAULT_USERNS: 'host' })).find((c) => c.name === 'userns default')!;
      expect(host).toMatchObject({ status: 'warn', detail: expect.stringContaining('their root is host root') });
    });
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
