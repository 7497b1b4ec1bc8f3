import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, installation, uniqueName } from '../support/corral.js';

const volumes = async (): Promise<{ name: string; usedBy: string[]; mountpoint: string }[]> => JSON.parse((await corral(['volume', 'ls', '--format', 'json'])).stdout);

describe('named volumes, --mount and --tmpfs', () => {
  it('volume create/ls/inspect/rm; -v NAME:/path shares files between containers with their own id ranges', async () => {
    const vol = uniqueName('vol');
    const made = await corral(['volume', 'create', vol]);
    expect(made).toMatchObject({ exitCode: 0, stdout: `${vol}\n` });
    const listed = (await volumes()).find((v) => v.name === vol)!;
    expect(listed.usedBy).toEqual([]);
    expect(listed.mountpoint).toBe(join(installation().dataRoot, 'volumes', vol, '_data'));
    const info = JSON.parse((await corral(['volume', 'inspect', vol])).stdout)[0];
    expect(info).toMatchObject({ name: vol, driver: 'local', size: 0 });

    const w = await corral(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo kept > /data/f && chown 1000:1000 /data/f']);
    expect(w.exitCode, w.stderr).toBe(0);
    // Another container (another host id range) sees the same owner; on the host the ids are the container's view.
    const r = await corral(['run', '--rm', '-v', `${vol}:/data:ro`, 'busybox', 'sh', '-c', 'cat /data/f; stat -c %u /data/f; touch /data/g 2>/dev/null || echo read-only']);
    expect(r.stdout).toBe('kept\n1000\nread-only\n');
    expect(statSync(join(listed.mountpoint, 'f')).uid).toBe(1000);

    // In use by a container (stopped): rm is refused and names it.
    const user = uniqueName('vol-user');
    expect((await corral(['create', '--name', user, '-v', `${vol}:/data`, 'busybox', 'true'])).exitCode).toBe(0);
    const refused = await corral(['volume', 'rm', vol]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(`volume ${vol} is in use by container ${user}`);
    expect((await volumes()).find((v) => v.name === vol)!.usedBy).toEqual([user]);
    await corral(['rm', user]);
    expect(await corral(['volume', 'rm', vol])).toMatchObject({ exitCode: 0, stdout: `${vol}\n` });
    expect(existsSync(listed.mountpoint)).toBe(false);
  });

  it('an empty volume gets what the template has at its mount point; --mount type=volume without a source is anonymous', async () => {
    const vol = uniqueName('vol-fill');
    try {
      const r = await corral(['run', '--rm', '-v', `${vol}:/etc`, 'busybox', 'sh', '-c', 'grep -c ^root: /etc/passwd']);
      expect(r.stdout, r.stderr).toBe('1\n');
      const mp = (await volumes()).find((v) => v.name === vol)!.mountpoint;
      expect(statSync(join(mp, 'passwd')).uid).toBe(0);
      const before = new Set((await volumes()).map((v) => v.name));
      const anon = await corral(['run', '--rm', '--mount', 'type=volume,target=/scratch', 'busybox', 'sh', '-c', 'echo x > /scratch/y']);
      expect(anon.exitCode, anon.stderr).toBe(0);
      const added = (await volumes()).filter((v) => !before.has(v.name));
      expect(added).toHaveLength(1);
      expect(added[0]!.name).toMatch(/^[0-9a-f]{64}$/);
      // prune removes what no container uses.
      const pruned = JSON.parse((await corral(['volume', 'prune', '-f', '--format', 'json'])).stdout);
      expect(pruned.removed).toEqual(expect.arrayContaining([vol, added[0]!.name]));
      expect((await volumes()).some((v) => v.name === vol)).toBe(false);
    } finally {
      await corral(['volume', 'rm', vol]);
    }
  });

  it('--tmpfs and --mount type=tmpfs|bind mount what they say', async () => {
    const r = await corral(['run', '--rm', '--tmpfs', '/scratch:size=1m', '--mount', 'type=tmpfs,target=/t2,tmpfs-mode=700', '--mount', `type=bind,source=${installation().dataRoot},target=/host,readonly`, 'busybox', 'sh', '-c',
      'grep -E " /(scratch|t2|host) " /proc/mounts | cut -d" " -f2,3,4; touch /scratch/a && stat -c "%u %a" /scratch /t2; touch /host/x 2>/dev/null || echo bind-ro']);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('/scratch '))).toMatch(/^\/scratch tmpfs rw,nosuid,nodev,noexec,.*size=1024k/);
    expect(lines.find((l) => l.startsWith('/t2 '))).toMatch(/^\/t2 tmpfs /);
    expect(lines.find((l) => l.startsWith('/host '))).toMatch(/^\/host \S+ ro,/);
    expect(lines).toContain('0 1777');
    expect(lines).toContain('0 700');
    expect(lines).toContain('bind-ro');
  });

  it('bad input: a specific error, a non-zero exit, no container and no volume made', async () => {
    const before = (await volumes()).map((v) => v.name).sort();
    const count = (await corral(['ps', '-aq'])).stdout;
    const cases: [string[], RegExp][] = [
      [['volume', 'create', 'bad name!'], /invalid volume name/],
      [['run', '--rm', '--tmpfs', 'relative', 'busybox', 'true'], /--tmpfs "relative".*not an absolute path/],
      [['run', '--rm', '--tmpfs', '/t:size=huge', 'busybox', 'true'], /tmpfs on \/t: size/],
      [['run', '--rm', '--tmpfs', '/t:suid', 'busybox', 'true'], /option "suid"/],
      [['run', '--rm', '--mount', 'type=nfs,target=/x', 'busybox', 'true'], /type "nfs": bind, volume or tmpfs/],
      [['run', '--rm', '--mount', 'type=bind,target=/x', 'busybox', 'true'], /a bind needs a source/],
      [['run', '--rm', '-v', 'data:/x:idmap', 'busybox', 'true'], /idmap is for host paths/],
      [['volume', 'rm', `no-such-volume-${process.pid}`], /no such volume/],
    ];
    for (const [args, message] of cases) {
      const r = await corral(args);
      expect(r.exitCode, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect((await volumes()).map((v) => v.name).sort()).toEqual(before);
    expect((await corral(['ps', '-aq'])).stdout).toBe(count);
  }, 300_000);
});
