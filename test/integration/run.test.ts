import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corral, sh, uniqueName } from '../support/corral.js';

describe('corral run', () => {
  const tmp = mkdtempSync('/var/tmp/corral-run-');
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints the container output', async () => {
    const r = await corral(['run', '--rm', 'busybox', 'echo', 'hello']);
    expect(r).toMatchObject({ stdout: 'hello\n', exitCode: 0 });
  });

  it('exits with the container exit code', async () => {
    expect((await corral(['run', '--rm', 'busybox', 'sh', '-c', 'exit 42'])).exitCode).toBe(42);
  });

  it('reports a signal death as 128+signal', async () => {
    // With --init the shell is not PID 1, so SIGKILL from inside reaches it; exit is 128+9.
    expect((await corral(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'kill -9 $$'])).exitCode).toBe(137);
  });

  it('keeps stdout and stderr apart', async () => {
    const r = await corral(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  it('passes options after the template to the program', async () => {
    expect((await corral(['run', '--rm', 'busybox', 'echo', '-n', 'x'])).stdout).toBe('x');
  });

  it('says when the program does not exist, with exit 127', async () => {
    const r = await corral(['run', '--rm', 'busybox', 'no-such-program']);
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toMatch(/no-such-program.*not found/);
  });

  it('pipes stdin with -i', async () => {
    const r = await corral(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z'], { input: 'shout\n' });
    expect(r.stdout).toBe('SHOUT\n');
  });

  it('sets env, env files, workdir, user and hostname', async () => {
    const envFile = join(tmp, 'env');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\n\nOVERRIDE=file\n');
    const out = await sh('echo "$A $FROM_FILE $OVERRIDE"; pwd; id -u; id -g; hostname', [
      '-e', 'A=1', '--env-file', envFile, '-e', 'OVERRIDE=flag', '-w', '/tmp/work', '-u', '1000:1000', '--hostname', 'box1',
    ]);
    expect(out.split('\n')).toEqual(['1 yes flag', '/tmp/work', '1000', '1000', 'box1', '']);
  });

  it('resolves a user name from the container passwd', async () => {
    expect((await sh('id -un; echo $HOME', ['-u', 'nobody'])).split('\n')).toEqual(['nobody', '/nonexistent', '']);
  });

  it('names the hostname after the container by default', async () => {
    const name = uniqueName('hn');
    expect(await sh('hostname', ['--name', name])).toBe(`${name}\n`);
  });

  it('mounts volumes, read-only when asked', async () => {
    const vol = join(tmp, 'vol');
    rmSync(vol, { recursive: true, force: true });
    mkdtempSync(join(tmp, 'x'));
    writeFileSync(join(tmp, 'in.txt'), 'from host');
    // tmp is host root's (0700): with its own user namespace the container reaches it through an
    // idmapped volume (test/integration/userns.test.ts covers plain volumes).
    const out = await sh('cat /data/in.txt; echo written > /data/out.txt; echo ro > /ro/f 2>/dev/null || echo refused', [
      '-v', `${tmp}:/data:idmap`, '-v', `${tmp}:/ro:ro,idmap`,
    ]);
    expect(out).toBe('from hostrefused\n');
  });

  it('makes the root read-only with --read-only', async () => {
    expect(await sh('touch /x 2>/dev/null && echo wrote || echo refused; touch /tmp/x 2>/dev/null && echo tmp || echo tmp-refused', ['--read-only'])).toBe('refused\ntmp-refused\n');
  });

  it('reaps zombies with --init', async () => {
    // The inner shell leaves an orphan that dies later: PID 1 (the init) must reap it.
    const out = await sh('sh -c "sleep 0.2 &"; sleep 1; ps -o stat | grep -c Z; cat /proc/1/comm', ['--init']);
    const [zombies, pid1] = out.split('\n');
    expect(zombies).toBe('0');
    expect(pid1).not.toBe('sh');
  });

  it('returns at once with -d and keeps the container running', async () => {
    const name = uniqueName('bg');
    const t0 = Date.now();
    const r = await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '60']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const ps = await corral(['ps', '--format', 'json']);
    expect(JSON.parse(ps.stdout).find((c: { name: string }) => c.name === name)?.status).toBe('running');
    expect((await corral(['rm', '-f', name])).exitCode).toBe(0);
  });

  it('removes the container with --rm, and keeps it without', async () => {
    const gone = uniqueName('rm');
    const kept = uniqueName('keep');
    await corral(['run', '--rm', '--name', gone, 'busybox', 'true']);
    await corral(['run', '--name', kept, 'busybox', 'true']);
    const names = JSON.parse((await corral(['ps', '-a', '--format', 'json'])).stdout).map((c: { name: string }) => c.name);
    expect(names).not.toContain(gone);
    expect(names).toContain(kept);
    expect((await corral(['rm', kept])).exitCode).toBe(0);
  });
});
