import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corral, inspect, installation, sh, uniqueName } from '../support/corral.js';

/** The `0 BASE SIZE` line of a uid_map, as numbers. */
const mapOf = (text: string): number[] => text.trim().split(/\s+/).map(Number);

const pool = (): Record<string, number> => {
  const f = join(installation().dataRoot, 'userns-pool.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')).ranges : {};
};

async function runDetached(extra: string[] = []): Promise<{ name: string; i: any }> {
  const name = uniqueName('uns');
  const r = await corral(['run', '-d', '--name', name, ...extra, 'busybox', 'sleep', '300']);
  if (r.exitCode !== 0) throw new Error(`run -d: ${r.stderr}`);
  return { name, i: await inspect(name) };
}

describe('user namespaces (the default)', () => {
  const tmp = mkdtempSync('/var/tmp/corral-userns-');
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('maps container root onto a private range of 65,536 unprivileged host ids, which inspect shows', async () => {
    const { name, i } = await runDetached();
    try {
      expect(i.config.userns).toMatchObject({ mode: 'private', size: 65_536 });
      const base: number = i.config.userns.uidBase;
      expect(base).toBeGreaterThanOrEqual(1_000_000);
      expect(mapOf((await corral(['exec', name, 'cat', '/proc/self/uid_map'])).stdout)).toEqual([0, base, 65_536]);
      expect(mapOf((await corral(['exec', name, 'cat', '/proc/self/gid_map'])).stdout)).toEqual([0, i.config.userns.gidBase, 65_536]);
      // The host sees PID 1 as that uid, not root.
      const status = readFileSync(`/proc/${i.state.pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Uid:\\s+${base}\\s+${base}\\s+${base}\\s+${base}$`, 'm'));
      expect((await corral(['exec', name, 'sh', '-c', 'id -u; id -g'])).stdout).toBe('0\n0\n');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('gives two containers disjoint ranges, and frees a range at rm for the next container', async () => {
    const a = await runDetached();
    const b = await runDetached();
    try {
      const [ba, bb] = [a.i.config.userns.uidBase as number, b.i.config.userns.uidBase as number];
      expect(Math.abs(ba - bb)).toBeGreaterThanOrEqual(65_536);
      expect(pool()[a.i.id]).toBe(ba);
      expect(pool()[b.i.id]).toBe(bb);
      expect((await corral(['rm', '-f', a.name])).exitCode).toBe(0);
      expect(pool()[a.i.id]).toBeUndefined();
      // The lowest free range is handed out again (a's, unless a lower one was free already).
      const c = await runDetached();
      try {
        expect(c.i.config.userns.uidBase).toBeLessThanOrEqual(ba);
        expect(c.i.config.userns.uidBase).not.toBe(bb);
      } finally {
        await corral(['rm', '-f', c.name]);
      }
    } finally {
      await corral(['rm', '-f', a.name]);
      await corral(['rm', '-f', b.name]);
    }
  });

  it('--userns host shares the host user namespace (the whole id space), and says so', async () => {
    expect(mapOf(await sh('cat /proc/self/uid_map', ['--userns', 'host']))).toEqual([0, 0, 4_294_967_295]);
    const { name, i } = await runDetached(['--userns', 'host']);
    try {
      expect(i.config.userns).toEqual({ mode: 'host' });
      expect(pool()[i.id]).toBeUndefined();
      // exec finds the container in our own user namespace and does not try to enter it.
      expect(mapOf((await corral(['exec', name, 'cat', '/proc/self/uid_map'])).stdout)).toEqual([0, 0, 4_294_967_295]);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('a setuid-root file written into a volume belongs to an unprivileged host uid', async () => {
    const vol = mkdtempSync(join(tmp, 'vol-'));
    chmodSync(vol, 0o777);
    const { name, i } = await runDetached(['-v', `${vol}:/v`]);
    try {
      const r = await corral(['exec', name, 'sh', '-c', 'cp /bin/busybox /v/rootshell && chown 0:0 /v/rootshell && chmod 4755 /v/rootshell && ls -ln /v/rootshell']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^-rwsr-xr-x\s+1 0\s+0 /);
      const st = statSync(join(vol, 'rootshell'));
      expect(st.uid).toBe(i.config.userns.uidBase);
      expect(st.uid).not.toBe(0);
      expect(st.gid).toBe(i.config.userns.gidBase);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('an :idmap volume keeps its files\' host owners (the container acts as their owner)', async () => {
    const vol = mkdtempSync(join(tmp, 'idmap-'));
    writeFileSync(join(vol, 'owned-by-host-root'), 'x', { mode: 0o600 });
    const out = await sh('ls -ln /v/owned-by-host-root; cat /v/owned-by-host-root; echo; touch /v/made', ['-v', `${vol}:/v:idmap`]);
    expect(out).toMatch(/^-rw-------\s+1 0\s+0 .*\nx\n$/);
    expect(statSync(join(vol, 'made')).uid).toBe(0);
  });

  it('container root cannot read a host root 0600 file bound into it (with --userns host it can)', async () => {
    const secret = join(tmp, 'secret');
    writeFileSync(secret, 'host secret\n', { mode: 0o600 });
    const script = 'cat /secret 2>&1; true';
    expect(await sh(script, ['-v', `${secret}:/secret:ro`])).toBe('cat: can\'t open \'/secret\': Permission denied\n');
    expect(await sh(script, ['-v', `${secret}:/secret:ro`, '--userns', 'host'])).toBe('host secret\n');
  });

  it('files made in the container are its root\'s inside (ls -ln shows 0) and its range\'s on the host', async () => {
    const { name, i } = await runDetached();
    try {
      const r = await corral(['exec', name, 'sh', '-c', 'touch /made && mkdir -p /home/u && chown 1000:1000 /home/u && ls -ln / | grep " made$"; ls -lnd /home/u']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^-rw-r--r--\s+1 0\s+0 .* \/?made\ndrwxr-xr-x\s+2 1000\s+1000 .*\/home\/u\n$/);
      const upper: string = i.rootfs.upper;
      const base: number = i.config.userns.uidBase;
      expect(statSync(join(upper, 'made')).uid).toBe(base);
      expect(statSync(join(upper, 'home/u')).uid).toBe(base + 1000);
      // The template's files (the shared lower layer) are root's inside too, and stay host root's.
      expect((await corral(['exec', name, 'stat', '-c', '%u:%g', '/bin/busybox'])).stdout).toBe('0:0\n');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('--user 1000 runs as container uid 1000 (host base+1000); exec joins the same namespace', async () => {
    const { name, i } = await runDetached(['--user', '1000']);
    try {
      const base: number = i.config.userns.uidBase;
      expect(readFileSync(`/proc/${i.state.pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${base + 1000}\\s`, 'm'));
      expect((await corral(['exec', name, 'id', '-u'])).stdout).toBe('1000\n');
      expect((await corral(['exec', '--user', '0', name, 'sh', '-c', 'id -u; cat /proc/self/uid_map'])).stdout).toMatch(new RegExp(`^0\\n\\s+0\\s+${base}\\s+65536\\n$`));
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('container root cannot raise its own cgroup limits on the host hierarchy, even with CAP_SYS_ADMIN or a nested user namespace', async () => {
    const { name, i } = await runDetached(['-m', '64m', '--cap-add', 'SYS_ADMIN']);
    try {
      // Today's attack: mount the v1 memory hierarchy (the cgroup namespace roots it at the
      // container's own cgroup) and write -1 to the limit. The files are host root's, which the
      // container's range cannot write; a nested user namespace has no say over the cgroup one.
      const script = [
        'mkdir -p /tmp/cg /tmp/cg2',
        'mount -t cgroup -o memory none /tmp/cg && echo mounted && { echo -1 > /tmp/cg/memory.limit_in_bytes && echo raised; }',
        'unshare -Urm sh -c "mount -t cgroup -o pids none /tmp/cg2 && echo nested-mounted"',
        'echo x > /sys/fs/cgroup/pids.max',
        'true',
      ].map((c) => `{ ${c}; } 2>&1`).join('; ');
      const out = (await corral(['exec', name, 'sh', '-c', script])).stdout;
      expect(out).not.toMatch(/raised|nested-mounted/);
      // With CAP_SYS_ADMIN in its own namespaces the mount works; the write does not.
      expect(out).toMatch(/^mounted\n.*memory\.limit_in_bytes: Permission denied\n/);
      expect(out).toMatch(/\/sys\/fs\/cgroup\/pids\.max: (Read-only file system|Permission denied|nonexistent directory)/);
      const dir = (i.cgroup.paths as string[]).find((p) => p.includes('/memory/'));
      if (dir) expect(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 * 1024 * 1024));
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
