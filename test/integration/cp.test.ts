import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName } from '../support/corral.js';

/** A tar with the given members (files with text bodies, symlinks), built by hand so it may be hostile. */
function tarOf(members: { path: string; type?: 'File' | 'SymbolicLink' | 'Directory'; body?: string; linkpath?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const body = Buffer.from(m.body ?? '');
    const h = new Header({ path: m.path, type: m.type ?? 'File', size: m.type === undefined || m.type === 'File' ? body.length : 0, mode: 0o644, uid: 0, gid: 0, mtime: new Date(), ...(m.linkpath ? { linkpath: m.linkpath } : {}) });
    h.encode();
    blocks.push(h.block!);
    if (body.length > 0 && (m.type ?? 'File') === 'File') blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('corral cp', () => {
  const host = mkdtempSync(join(tmpdir(), 'corral-cp-'));
  const running = uniqueName('cp-run');
  let upper = '';
  let uidBase = 0;

  beforeAll(async () => {
    const r = await corral(['run', '-d', '--name', running, 'busybox', 'sh', '-c',
      'mkdir -p /srv/d/sub && echo a > /srv/d/a && echo b > /srv/d/sub/b && chown 1234:1234 /srv/d/a && ln -s / /tmp/esc && ln -s ../../../../../.. /tmp/up && echo inside > /etc/only-inside && exec sleep 1000']);
    expect(r.exitCode, r.stderr).toBe(0);
    const info = await inspect(running);
    upper = info.rootfs.upper;
    uidBase = info.config.userns.uidBase;
    // The script above has run once /etc/only-inside exists.
    for (let i = 0; i < 200 && (await corral(['exec', running, 'test', '-e', '/etc/only-inside'])).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await corral(['rm', '-f', running]);
    rmSync(host, { recursive: true, force: true });
  });

  it('copies a host file into a running container, owned by the container root (its range on the host)', async () => {
    writeFileSync(join(host, 'in.txt'), 'from the host\n');
    const r = await corral(['cp', join(host, 'in.txt'), `${running}:/tmp/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await corral(['exec', running, 'cat', '/tmp/in.txt'])).stdout).toBe('from the host\n');
    expect((await corral(['exec', running, 'stat', '-c', '%u:%g', '/tmp/in.txt'])).stdout.trim()).toBe('0:0');
    expect(statSync(join(upper, 'tmp/in.txt')).uid).toBe(uidBase);
    // A new name for it, and a directory with its contents (`dir/.`).
    expect((await corral(['cp', join(host, 'in.txt'), `${running}:/tmp/renamed`])).exitCode).toBe(0);
    expect((await corral(['exec', running, 'cat', '/tmp/renamed'])).stdout).toBe('from the host\n');
    mkdirSync(join(host, 'tree/deep'), { recursive: true });
    writeFileSync(join(host, 'tree/deep/f'), 'deep\n');
    expect((await corral(['cp', join(host, 'tree') + '/.', `${running}:/opt`])).exitCode).toBe(0);
    expect((await corral(['exec', running, 'cat', '/opt/deep/f'])).stdout).toBe('deep\n');
  });

  it('copies a directory out of a running container, and keeps owners with -a', async () => {
    const r = await corral(['cp', `${running}:/srv/d`, join(host, 'out')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(host, 'out/a'), 'utf8')).toBe('a\n');
    expect(readFileSync(join(host, 'out/sub/b'), 'utf8')).toBe('b\n');
    expect(statSync(join(host, 'out/a')).uid).toBe(process.getuid!());
    expect((await corral(['cp', '-a', `${running}:/srv/d/a`, join(host, 'a-kept')])).exitCode).toBe(0);
    expect(statSync(join(host, 'a-kept')).uid).toBe(1234);
    // `-` writes a tar archive to stdout.
    const t = await corral(['cp', `${running}:/srv/d`, '-']);
    expect(t.exitCode).toBe(0);
    expect(t.stdout).toContain('d/sub/b');
  });

  it('resolves symlinks inside the container: none leads out of it, either way', async () => {
    const secret = join(host, 'secret');
    mkdirSync(secret);
    writeFileSync(join(secret, 'key'), 'host secret\n');
    // /tmp/esc -> / and /tmp/up -> ../../..: the host's files are not reachable through them.
    const read = await corral(['cp', `${running}:/tmp/esc${secret}/key`, join(host, 'leak')]);
    expect(read.exitCode).not.toBe(0);
    expect(read.stderr).toMatch(/no such file or directory in container/);
    expect(existsSync(join(host, 'leak'))).toBe(false);
    const up = await corral(['cp', `${running}:/tmp/up/etc/only-inside`, join(host, 'inside')]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(readFileSync(join(host, 'inside'), 'utf8')).toBe('inside\n');
    // Writing through them lands inside the container, never in the host's directory.
    writeFileSync(join(host, 'payload'), 'payload\n');
    const write = await corral(['cp', join(host, 'payload'), `${running}:/tmp/esc${secret}/`]);
    expect(write.exitCode).not.toBe(0);
    expect(readdirSync(secret)).toEqual(['key']);
    expect((await corral(['cp', join(host, 'payload'), `${running}:/tmp/up/payload`])).exitCode).toBe(0);
    expect((await corral(['exec', running, 'cat', '/payload'])).stdout).toBe('payload\n');
    expect(existsSync('/payload')).toBe(false);
  });

  it('refuses a hostile archive on stdin and writes nothing outside the directory', async () => {
    const escape = await corral(['cp', '-', `${running}:/tmp`], { input: tarOf([{ path: '../../escaped', body: 'x' }]) });
    expect(escape.exitCode).not.toBe(0);
    expect(escape.stderr).toMatch(/climbs out/);
    // A symlink member, then a file written through it.
    const through = await corral(['cp', '-', `${running}:/tmp`], { input: tarOf([{ path: 'link', type: 'SymbolicLink', linkpath: host }, { path: 'link/planted', body: 'x' }]) });
    expect(through.exitCode).not.toBe(0);
    expect(through.stderr).toMatch(/symlink/);
    expect(existsSync(join(host, 'planted'))).toBe(false);
    // A well-formed archive goes in.
    const ok = await corral(['cp', '-', `${running}:/tmp`], { input: tarOf([{ path: 'fine/ok.txt', body: 'ok\n' }]) });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect((await corral(['exec', running, 'cat', '/tmp/fine/ok.txt'])).stdout).toBe('ok\n');
  });

  it('copies into and out of a container that is not running, and it sees the files when it starts', async () => {
    const name = uniqueName('cp-stopped');
    expect((await corral(['create', '--name', name, 'busybox', 'cat', '/etc/motd-copied'])).exitCode).toBe(0);
    try {
      writeFileSync(join(host, 'motd'), 'copied while created\n');
      const r = await corral(['cp', join(host, 'motd'), `${name}:/etc/motd-copied`]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect((await corral(['start', name])).exitCode).toBe(0);
      expect((await corral(['wait', name])).stdout.trim()).toBe('0');
      expect((await corral(['logs', name])).stdout).toBe('copied while created\n');
      // Exited now: copy out of it.
      const out = await corral(['cp', `${name}:/etc/motd-copied`, join(host, 'motd-back')]);
      expect(out.exitCode, out.stderr).toBe(0);
      expect(readFileSync(join(host, 'motd-back'), 'utf8')).toBe('copied while created\n');
      expect((await inspect(name)).state.status).toBe('exited');
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('bad input: a specific error, a non-zero exit, nothing made', async () => {
    const none = await corral(['cp', join(host, 'in.txt'), join(host, 'x')]);
    expect(none.exitCode).not.toBe(0);
    expect(none.stderr).toMatch(/CONTAINER:PATH/);
    const missing = await corral(['cp', `${running}:/no/such`, join(host, 'nothing')]);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toMatch(/no such file or directory in container/);
    expect(existsSync(join(host, 'nothing'))).toBe(false);
    const nosuch = await corral(['cp', `no-such-container-${process.pid}:/etc`, host]);
    expect(nosuch.exitCode).not.toBe(0);
    expect(nosuch.stderr).toMatch(/no such container/);
    const noDir = await corral(['cp', join(host, 'in.txt'), `${running}:/no/such/dir/`]);
    expect(noDir.exitCode).not.toBe(0);
    expect(noDir.stderr).toMatch(/does not exist|no such/);
  });
});
