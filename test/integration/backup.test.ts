import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, openSync, readSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral, inspect, installation, uniqueName } from '../support/corral.js';
import { forEachEntry } from '../../src/rootfs/archive/extract.js';
import type { TarEntry } from '../../src/rootfs/archive/tar-reader.js';
import { END_OF_ARCHIVE, memberHeader, pad, type TarMember } from '../../src/runtime/backup/tar-write.js';

/** What a user would compare: every entry of the layer (ids relative to the container's range), its content's sha256. */
function treeSum(root: string, uidBase: number, gidBase: number): string[] {
  const h: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel ? join(root, rel) : root;
    const st = lstatSync(abs);
    let content = '';
    if (st.isSymbolicLink()) content = readlinkSync(abs);
    else if (st.isFile()) content = fileSum(abs);
    else if (st.isCharacterDevice()) content = `c${st.rdev}`;
    // Whiteouts are overlayfs' own, owned by host root whatever the range.
    const ids = st.isCharacterDevice() ? `${st.uid}:${st.gid}` : `${st.uid - uidBase}:${st.gid - gidBase}`;
    h.push(`${rel} ${st.mode.toString(8)} ${ids} ${st.isFile() ? st.size : 0} ${content}`);
    if (st.isDirectory()) for (const n of readdirSync(abs).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return h;
}

function fileSum(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

interface Member {
  m: TarMember;
  body: Buffer;
}

/** The members of a backup file (decompressed), to make hostile variants of it. */
async function members(file: string): Promise<Member[]> {
  const out: Member[] = [];
  await forEachEntry((async function* () { yield readFileSync(file); })(), undefined, async (e: TarEntry, body) => {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    const type = e.type === 'block' ? 'char' : e.type;
    out.push({ m: { name: e.name, type, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, link: e.linkname || undefined, devmajor: e.devmajor, devminor: e.devminor, xattrs: e.xattrs } as TarMember, body: Buffer.concat(chunks) });
  });
  return out;
}

function pack(list: Member[]): Buffer {
  const parts: Buffer[] = [];
  for (const { m, body } of list) {
    parts.push(memberHeader({ ...m, size: m.type === 'file' ? body.length : 0 }), body, Buffer.alloc(pad(body.length)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

const jsonOf = (x: Member): any => JSON.parse(x.body.toString('utf8'));
const withJson = (x: Member, v: unknown): Member => ({ ...x, body: Buffer.from(JSON.stringify(v)) });

/** What must not change when a restore is refused: containers, their directories, id ranges, templates. */
function footprint(): string {
  const data = installation().dataRoot;
  const pool = join(data, 'userns-pool.json');
  return JSON.stringify({
    dirs: readdirSync(join(data, 'containers')).sort(),
    pool: existsSync(pool) ? JSON.parse(readFileSync(pool, 'utf8')) : null,
    templates: readdirSync(join(data, 'templates')).sort(),
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync('/var/tmp/corral-backup-test-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('corral backup and restore', () => {
  it('refuses to recreate binds of host paths from an archive unless --allow-host-binds', async () => {
    const name = uniqueName('bk-bind');
    const file = join(dir, 'bind.backup');
    const shared = mkdtempSync(join(dir, 'shared-'));
    expect((await corral(['create', '--name', name, '-v', `${shared}:/data`, 'busybox', 'true'])).exitCode).toBe(0);
    try {
      const b = await corral(['backup', name, '--compression', 'none', '-o', file]);
      expect(b.exitCode, b.stderr).toBe(0);
    } finally {
      await corral(['rm', '-f', name]);
    }
    const was = footprint();
    const r = await corral(['restore', file]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`the backup binds host paths into the container (${shared}:/data); check them, then restore with --allow-host-binds`);
    expect(footprint()).toBe(was);
    const ok = await corral(['restore', file, '--allow-host-binds']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect((await inspect(name)).config.volumes).toEqual([expect.objectContaining({ source: shared, target: '/data' })]);
    await corral(['rm', '-f', name]);
  });

  it('backup → rm → restore gives back the same data, config, limits, ports and restart policy', async () => {
    const name = uniqueName('bk');
    const port = 20000 + (process.pid % 20000);
    const file = join(dir, 'full.backup');
    const created = await corral(['create', '--name', name, '--memory', '64m', '--pids-limit', '50', '--cpus', '0.5', '-p', `${port}:80`, '--restart', 'on-failure:3', '--label', 'tier=web', '-e', 'GREETING=hi', 'busybox', 'sleep', '3600']);
    expect(created.exitCode, created.stderr).toBe(0);
    try {
      expect((await corral(['start', name])).exitCode).toBe(0);
      const script = [
        'dd if=/dev/urandom of=/big bs=1M count=100 2>/dev/null',
        'mkdir -p /srv/d && echo hello > /srv/d/f && ln -s /srv/d/f /srv/d/link && ln /srv/d/f /srv/d/hard',
        'chown 1000:1001 /srv/d/f && chmod 4750 /srv/d/f',
        'rm /bin/ls',
        'mkfifo /srv/fifo',
      ].join(' && ');
      const ex = await corral(['exec', name, 'sh', '-c', script], { timeoutMs: 120_000 });
      expect(ex.exitCode, ex.stderr).toBe(0);
      const bigInside = (await corral(['exec', name, 'sha256sum', '/big'])).stdout.split(' ')[0];
      expect((await corral(['stop', '-t', '1', name])).exitCode).toBe(0);
      const before = await inspect(name);
      const ub = before.config.userns;
      const sumBefore = treeSum(before.rootfs.upper, ub.uidBase, ub.gidBase);
      expect(fileSum(join(before.rootfs.upper, 'big'))).toBe(bigInside);

      const b = await corral(['backup', name, '-o', file], { timeoutMs: 180_000 });
      expect(b.exitCode, b.stderr).toBe(0);
      expect(b.stderr).toMatch(/^Backup [0-9a-f]{32} of /);
      expect((await corral(['rm', name])).exitCode).toBe(0);

      const r = await corral(['restore', file], { timeoutMs: 180_000 });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${name}\n`);
      const after = await inspect(name);
      expect(after.id).not.toBe(before.id);
      const ua = after.config.userns;
      expect(ua.mode).toBe('private');
      expect(treeSum(after.rootfs.upper, ua.uidBase, ua.gidBase)).toEqual(sumBefore);
      expect(fileSum(join(after.rootfs.upper, 'big'))).toBe(bigInside);
      const strip = (c: any): any => ({ ...c, id: undefined, createdAt: undefined, userns: undefined });
      expect(strip(after.config)).toEqual(strip(before.config));
      expect(after.config.limits).toEqual(before.config.limits);
      expect(after.config.network.ports).toEqual([{ hostIp: '0.0.0.0', hostPort: port, containerPort: 80, protocol: 'tcp' }]);
      expect(after.config.restartPolicy).toEqual({ name: 'on-failure', maxRetries: 3 });
      expect(after.state.status).toBe('created');
      // And it runs: the file reads the same inside, the owner is the container's uid 1000.
      expect((await corral(['start', name])).exitCode).toBe(0);
      expect((await corral(['exec', name, 'sha256sum', '/big'])).stdout.split(' ')[0]).toBe(bigInside);
      expect((await corral(['exec', name, 'stat', '-c', '%u:%g %a', '/srv/d/f'])).stdout.trim()).toBe('1000:1001 4750');
      expect((await corral(['exec', name, 'sh', '-c', 'test -e /bin/ls; echo $?'])).stdout.trim()).toBe('1');
    } finally {
      await corral(['rm', '-f', name]);
    }
  }, 600_000);

  it('an incremental carries only what changed (and deletions); restore BASE INCR gives back the latest state', async () => {
    const name = uniqueName('bk-inc');
    const full = join(dir, 'inc-full.backup');
    const incr = join(dir, 'inc-incr.backup');
    expect((await corral(['create', '--name', name, 'busybox', 'sleep', '3600'])).exitCode).toBe(0);
    try {
      expect((await corral(['start', name])).exitCode).toBe(0);
      const setup = await corral(['exec', name, 'sh', '-c', 'dd if=/dev/urandom of=/big bs=1M count=20 2>/dev/null && echo one > /note && echo gone > /doomed && mkdir /dir']);
      expect(setup.exitCode, setup.stderr).toBe(0);
      expect((await corral(['backup', name, '-o', full])).exitCode).toBe(0);
      const change = await corral(['exec', name, 'sh', '-c', 'echo two > /note && rm /doomed && echo new > /dir/added && rm /bin/cat']);
      expect(change.exitCode, change.stderr).toBe(0);
      const b = await corral(['backup', name, '--since', full, '-o', incr]);
      expect(b.exitCode, b.stderr).toBe(0);
      expect(b.stderr).toMatch(/incremental since/);
      const fullSize = statSync(full).size;
      const incrSize = statSync(incr).size;
      expect(incrSize).toBeLessThan(fullSize / 20);
      const big = (await corral(['exec', name, 'sha256sum', '/big'])).stdout.split(' ')[0];
      expect((await corral(['rm', '-f', name])).exitCode).toBe(0);

      // Applied on the wrong base (nothing), it is refused.
      const alone = await corral(['restore', incr]);
      expect(alone.exitCode).not.toBe(0);
      expect(alone.stderr).toMatch(/is incremental: restore its base first/);

      const r = await corral(['restore', full, incr, '--start']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect((await corral(['exec', name, 'busybox', 'cat', '/note', '/dir/added'])).stdout).toBe('two\nnew\n');
      expect((await corral(['exec', name, 'sh', '-c', 'test -e /doomed || echo no-doomed; test -e /bin/cat || echo no-cat'])).stdout).toBe('no-doomed\nno-cat\n');
      expect((await corral(['exec', name, 'sha256sum', '/big'])).stdout.split(' ')[0]).toBe(big);
    } finally {
      await corral(['rm', '-f', name]);
    }
  }, 300_000);

  describe('refuses a corrupt or hostile archive and leaves nothing behind', () => {
    const name = uniqueName('bk-src');
    let good: Member[];
    let goodFile: string;

    beforeAll(async () => {
      try {
        expect((await corral(['create', '--name', name, 'busybox', 'sh', '-c', 'mkdir -p /srv && echo MARKER-CONTENT-0123456789 > /srv/marker'])).exitCode).toBe(0);
        expect((await corral(['start', name])).exitCode).toBe(0);
        expect((await corral(['wait', name])).stdout).toBe('0\n');
        goodFile = join(dir, 'small.backup');
        const b = await corral(['backup', name, '--compression', 'none', '-o', goodFile]);
        expect(b.exitCode, b.stderr).toBe(0);
        good = await members(goodFile);
      } finally {
        await corral(['rm', '-f', name]);
      }
    }, 120_000);

    async function refused(data: Buffer, pattern: RegExp): Promise<void> {
      const f = join(dir, 'hostile.backup');
      writeFileSync(f, data);
      const was = footprint();
      const r = await corral(['restore', f, '--name', `${name}-r`]);
      expect(r.exitCode, r.stdout).not.toBe(0);
      expect(r.stderr).toMatch(pattern);
      expect(footprint()).toBe(was);
      expect((await corral(['inspect', `${name}-r`])).exitCode).toBe(1);
    }

    it('restores the untouched archive (the variants below differ only in what they break)', async () => {
      const r = await corral(['restore', goodFile, '--name', `${name}-ok`]);
      expect(r.exitCode, r.stderr).toBe(0);
      await corral(['rm', '-f', `${name}-ok`]);
    });

    it('a flipped byte in a file', async () => {
      const data = readFileSync(goodFile);
      const at = data.lastIndexOf('MARKER-CONTENT');
      expect(at).toBeGreaterThan(0);
      data[at + 3] ^= 0x20;
      await refused(data, /refused entry "upper\/srv\/marker": does not match the manifest \(checksum or metadata\): sha256/);
    });

    it('a flipped byte in a compressed archive', async () => {
      const z = spawnSync('zstd', ['-q', '-c', goodFile]).stdout;
      expect(z.length).toBeGreaterThan(100);
      z[Math.floor(z.length / 2)] ^= 0xff;
      await refused(z, /decompress|checksum|manifest|not a tar archive|truncated/);
    });

    it('a truncated archive', async () => {
      const data = readFileSync(goodFile);
      await refused(data.subarray(0, data.lastIndexOf('MARKER-CONTENT') + 5), /truncated/);
    });

    it('a member that climbs out of the layer', async () => {
      const list = [...good];
      list.splice(2, 0, { m: { name: 'upper/../../../../tmp/evil', type: 'file', size: 4, mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, body: Buffer.from('evil') });
      await refused(pack(list), /refused entry "upper\/..\/..\/..\/..\/tmp\/evil": path climbs out of the layer/);
    });

    it('a symlink that leads out, with a member written through it', async () => {
      const list = [...good];
      list.splice(2, 0,
        { m: { name: 'upper/escape', type: 'symlink', size: 0, mode: 0o777, uid: 0, gid: 0, mtime: new Date(), link: '/etc' }, body: Buffer.alloc(0) },
        { m: { name: 'upper/escape/corral-evil', type: 'file', size: 4, mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, body: Buffer.from('evil') });
      await refused(pack(list), /refused entry "upper\/escape\/corral-evil": its parent "escape" is a symlink/);
      expect(existsSync('/etc/corral-evil')).toBe(false);
    });

    it('a checksum in the manifest that does not match', async () => {
      const list = [...good];
      const i = list.length - 1;
      const manifest = jsonOf(list[i]!);
      const m = manifest.members.find((x: any) => x.name === 'upper/srv/marker');
      m.sha256 = '0'.repeat(64);
      list[i] = withJson(list[i]!, manifest);
      await refused(pack(list), /does not match the manifest .*sha256/);
    });

    it('a device node', async () => {
      const list = [...good];
      list.splice(2, 0, { m: { name: 'upper/sda', type: 'char', size: 0, mode: 0o600, uid: 0, gid: 0, mtime: new Date(), devmajor: 8, devminor: 0 }, body: Buffer.alloc(0) });
      await refused(pack(list), /refused entry "upper\/sda": device node c 8:0/);
    });

    it('a template that is not the one here (by digest), not carried', async () => {
      const list = [...good];
      const header = jsonOf(list[0]!);
      header.template.digest = `sha256:${'1'.repeat(64)}`;
      list[0] = withJson(list[0]!, header);
      const manifest = jsonOf(list[list.length - 1]!);
      manifest.members[0].sha256 = createHash('sha256').update(list[0]!.body).digest('hex');
      manifest.members[0].size = list[0]!.body.length;
      list[list.length - 1] = withJson(list[list.length - 1]!, manifest);
      await refused(pack(list), /template busybox here is sha256:[0-9a-f]{64}, the backup's is sha256:1111/);
    });
  });
});

