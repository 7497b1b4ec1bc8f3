import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corral, inspect, installation, uniqueName } from '../support/corral.js';

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** inspect's `isolation`: what holds the container, as configured and as the kernel has it while it runs. */
describe('inspect shows the isolation in force', () => {
  const tmp = mkdtempSync('/var/tmp/corral-inspect-iso-');
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('default: its uid map, the default seccomp profile and the filter loaded in PID 1, capabilities, cgroup namespace root', async () => {
    const name = uniqueName('iso');
    expect((await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    try {
      const i = await inspect(name);
      const iso = i.isolation;
      const base: number = i.config.userns.uidBase;
      expect(iso.userns).toEqual({ mode: 'private', uidMap: `0 ${base} 65536`, gidMap: `0 ${i.config.userns.gidBase} 65536`, inForce: { uidMap: `0 ${base} 65536`, gidMap: `0 ${i.config.userns.gidBase} 65536` } });
      const bpf = readFileSync(join(installation().dataRoot, 'containers', i.id, 'seccomp.bpf'));
      expect(iso.seccomp).toMatchObject({ profile: 'default', source: null, sha256: i.config.seccomp.sha256, filterSha256: sha256(bpf) });
      expect(iso.seccomp.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(iso.seccomp.inForce.mode).toBe(2);
      expect(iso.seccomp.inForce.filters).toBeGreaterThanOrEqual(1);
      expect(iso.noNewPrivileges).toBe(true);
      expect(iso.noNewPrivilegesInForce).toBe(true);
      expect(iso.capabilities).toEqual(i.config.capabilities);
      expect(iso.capabilities).toContain('NET_BIND_SERVICE');
      expect(iso.capabilities).not.toContain('SYS_ADMIN');
      expect(iso.cgroupNamespaceRoot).toEqual(i.cgroup.processes);
      expect((await corral(['stop', '-t', '0', name])).exitCode).toBe(0);
      // Stopped: the config's word only.
      const stopped = (await inspect(name)).isolation;
      expect(stopped.userns.inForce).toBeNull();
      expect(stopped.seccomp.inForce).toBeNull();
      expect(stopped.noNewPrivilegesInForce).toBeNull();
      expect(stopped.seccomp.filterSha256).toBe(sha256(bpf));
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('--userns host --security-opt seccomp=unconfined: the host\'s whole id space and no filter, in force', async () => {
    const name = uniqueName('iso-open');
    expect((await corral(['run', '-d', '--name', name, '--userns', 'host', '--security-opt', 'seccomp=unconfined', 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    try {
      const iso = (await inspect(name)).isolation;
      expect(iso.userns).toEqual({ mode: 'host', uidMap: '0 0 4294967295', gidMap: '0 0 4294967295', inForce: { uidMap: '0 0 4294967295', gidMap: '0 0 4294967295' } });
      expect(iso.seccomp).toEqual({ profile: 'unconfined', source: null, sha256: null, filterSha256: null, inForce: { mode: 0, filters: 0 } });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('seccomp=FILE: the file and the digest of its text', async () => {
    const file = join(tmp, 'profile.json');
    const text = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
    writeFileSync(file, text);
    const name = uniqueName('iso-file');
    expect((await corral(['create', '--name', name, '--security-opt', `seccomp=${file}`, 'busybox', 'true'])).exitCode).toBe(0);
    try {
      const iso = (await inspect(name)).isolation;
      expect(iso.seccomp).toMatchObject({ profile: 'custom', source: file, sha256: sha256(text), inForce: null });
      expect(iso.seccomp.filterSha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
