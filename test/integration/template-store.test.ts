import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corral, installation, sleep, uniqueName } from '../support/corral.js';
import { DEBIAN_INCLUDE } from '../support/debian-template.js';

/**
 * Templates as data in the data root: the debian template the global setup built (or copied from
 * the last run), commit and commit of a commit, rm refused while used, export, a template placed
 * by hand, and the disk cost of 100 containers of one template.
 */
const inst = installation();
const tdir = join(inst.dataRoot, 'templates');
const PORT = 40100 + (process.pid % 1000);
const tmp = mkdtempSync('/var/tmp/corral-tpl-it-');
const containers: string[] = [];
const templates: string[] = [];

afterAll(async () => {
  if (containers.length) await corral(['rm', '-f', ...containers]);
  // Children first: a parent is refused while a child stacks on it.
  for (const t of [...templates].reverse()) await corral(['template', 'rm', t]);
  rmSync(tmp, { recursive: true, force: true });
});

async function ok(args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await corral(args, { timeoutMs });
  if (r.exitCode !== 0) throw new Error(`corral ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
const name = (p: string): string => {
  const n = uniqueName(p);
  containers.push(n);
  return n;
};
const tname = (p: string): string => {
  const n = uniqueName(p);
  templates.push(n);
  return n;
};
const templateInfo = async (n: string): Promise<any> => JSON.parse(await ok(['template', 'inspect', n]))[0];
const du = (p: string): number => Number(execFileSync('du', ['-s', '--block-size=1', p], { encoding: 'utf8' }).split('\t')[0]);

function getFromHost(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let b = '';
      res.on('data', (d) => (b += String(d)));
      res.on('end', () => resolve(b));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`ERR ${e.code}`));
    req.on('timeout', () => (req.destroy(), resolve('TIMEOUT')));
    req.end();
  });
}

describe('the debian template', () => {
  it('runs apt and says which Debian it is', async () => {
    const out = await ok(['run', '--rm', '--network', 'none', 'debian', 'sh', '-c', 'apt-get --version | head -n 1; cat /etc/debian_version']);
    expect(out).toMatch(/^apt \d+\.\d+/);
    expect(out).toMatch(/\n12\.\d+\n$/);
  }, 300_000);

  it('carries nothing of the host or of one machine: empty machine-id, no ssh host keys, neutral names', async () => {
    const t = await templateInfo('debian');
    expect(t).toMatchObject({ status: 'ready', source: { kind: 'recipe', recipe: 'debian', args: { suite: 'bookworm', include: DEBIAN_INCLUDE } }, parent: null });
    const root = t.layers[0].path;
    expect(readFileSync(join(root, 'etc/machine-id'), 'utf8')).toBe('');
    expect(existsSync(join(root, 'etc/ssh')) ? readdirSync(join(root, 'etc/ssh')).filter((f) => f.startsWith('ssh_host_')) : []).toEqual([]);
    expect(readFileSync(join(root, 'etc/hostname'), 'utf8')).toBe('corral\n');
    expect(readdirSync(join(root, 'var/cache/apt/archives')).filter((f) => f.endsWith('.deb'))).toEqual([]);
  });

  it('serves nginx (installed with --include) on a port published to the host loopback', async () => {
    const n = name('nginx');
    await ok(['run', '-d', '--name', n, '-p', `127.0.0.1:${PORT}:80`, 'debian', 'nginx', '-g', 'daemon off;']);
    let body = '';
    for (let i = 0; i < 150 && !body.includes('Welcome to nginx'); i++) {
      body = await getFromHost(PORT);
      if (!body.includes('Welcome to nginx')) await sleep(200);
    }
    expect(body).toContain('Welcome to nginx');
    await ok(['rm', '-f', n]);
    expect(await getFromHost(PORT)).toMatch(/^ERR|TIMEOUT/);
  }, 300_000);
});

describe('commit', () => {
  it('makes a template of a container on top of its parent, and a commit of a commit; rm is refused while used', async () => {
    const a = name('commit-a');
    await ok(['run', '--name', a, '--network', 'none', 'debian', 'sh', '-c', 'echo one > /etc/one; rm /etc/debian_version; rm -rf /opt; mkdir /opt; touch /opt/only']);
    const t1 = tname('t1');
    const commitOut = await corral(['commit', a, t1]);
    expect(commitOut.exitCode).toBe(0);
    expect(commitOut.stdout).toBe(`${t1}\n`);
    expect(await ok(['run', '--rm', '--network', 'none', t1, 'sh', '-c', 'cat /etc/one; test -e /etc/debian_version && echo present || echo deleted; ls -A /opt'])).toBe('one\ndeleted\nonly\n');

    const b = name('commit-b');
    await ok(['run', '--name', b, '--network', 'none', t1, 'sh', '-c', 'echo two > /two']);
    const t2 = tname('t2');
    await ok(['commit', b, t2]);
    expect(await ok(['run', '--rm', '--network', 'none', t2, 'cat', '/etc/one', '/two'])).toBe('one\ntwo\n');

    // Layers are shared, not copied: the child's own directory holds only its changes.
    const deb = await templateInfo('debian');
    const i2 = await templateInfo(t2);
    expect(i2.parent).toBe(t1);
    expect(i2.layers.map((l: { owner: string }) => l.owner)).toEqual([t2, t1, 'debian']);
    expect(i2.sharedSizeBytes).toBeGreaterThanOrEqual(deb.sizeBytes);
    expect(i2.ownSizeBytes).toBeLessThan(1_000_000);
    expect(du(join(tdir, t2))).toBeLessThan(1_000_000);
    expect(deb.sizeBytes).toBeGreaterThan(50_000_000);

    const ls = await ok(['template', 'ls']);
    expect(ls).toMatch(new RegExp(`^${t2}\\s+commit of ${b} on ${t1}\\s+\\S+\\s+\\S+ \\(${t1}\\)\\s+0\\s`, 'm'));
    const lsJson = JSON.parse(await ok(['template', 'ls', '--format', 'json']));
    expect(lsJson.find((t: { name: string }) => t.name === t1).containers.map((c: { name: string }) => c.name)).toEqual([b]);

    const refused = await corral(['template', 'rm', t1]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toBe(`corral: template ${t1} is in use by container ${b} and template ${t2}: remove them first\n`);
    const debianRefused = await corral(['template', 'rm', 'debian']);
    expect(debianRefused.stderr).toBe(`corral: template debian is in use by container ${a} and templates ${t1}, ${t2}: remove them first\n`);
    const dry = await ok(['template', 'prune']);
    expect(dry).toContain(t2);
    expect(dry).not.toContain(t1);
    expect(existsSync(join(tdir, t2))).toBe(true);
  }, 600_000);

  it('commits a running container without pausing it, and says so', async () => {
    const r = name('commit-run');
    await ok(['run', '-d', '--name', r, '--network', 'none', 'busybox', 'sh', '-c', 'echo live > /live; exec sleep 300']);
    const t = tname('live');
    for (let i = 0; i < 100 && !(await corral(['exec', r, 'cat', '/live'])).stdout.includes('live'); i++) await sleep(100);
    const c = await corral(['commit', r, t]);
    expect(c.exitCode).toBe(0);
    expect(c.stderr).toContain(`warning: ${r} is running: committed without pausing it`);
    expect(await ok(['run', '--rm', '--network', 'none', t, 'cat', '/live'])).toBe('live\n');
  }, 300_000);
});

describe('export', () => {
  it("writes the container's merged filesystem as tar, deletions applied", async () => {
    const e = name('export');
    await ok(['run', '--name', e, '--network', 'none', 'busybox', 'sh', '-c', 'echo mine > /mine; rm /etc/shells']);
    const file = join(tmp, 'e.tar');
    await ok(['export', e, '-o', file]);
    const list = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    expect(list).toContain('./mine');
    expect(list).toContain('./bin/busybox');
    expect(list).not.toContain('./etc/shells');
    expect(execFileSync('tar', ['-xOf', file, './mine'], { encoding: 'utf8' })).toBe('mine\n');
  }, 300_000);
});

describe('templates placed by hand', () => {
  it('a directory with a template.json is a template; one without is listed as invalid with the reason', async () => {
    const hand = tname('hand');
    const loose = tname('loose');
    mkdirSync(join(tdir, hand, 'layers'), { recursive: true });
    execFileSync('cp', ['-a', (await templateInfo('busybox')).layers[0].path, join(tdir, hand, 'layers', '0')]);
    const record = { version: 1, name: hand, description: 'placed by hand', source: { kind: 'archive', format: 'rootfs-tar', file: 'hand.tar', digest: 'sha256:0' }, digest: 'sha256:0', parent: null, createdAt: new Date().toISOString(), layers: [{ path: `${hand}/layers/0`, digest: 'sha256:0', sizeBytes: 0 }], defaults: { command: ['sh'], env: ['PATH=/bin'] } };
    writeFileSync(join(tdir, hand, 'template.json'), JSON.stringify(record));
    mkdirSync(join(tdir, loose, 'bin'), { recursive: true });
    expect(await ok(['run', '--rm', '--network', 'none', hand, 'echo', 'by hand'])).toBe('by hand\n');
    const ls = await ok(['template', 'ls']);
    expect(ls).toMatch(new RegExp(`^${loose}\\s+invalid: no template.json record`, 'm'));
    const r = await corral(['run', '--rm', loose, 'true']);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toContain(`template ${loose} is invalid: no template.json record`);
  }, 300_000);

  it('build refuses an existing name and an unknown option without building', async () => {
    const again = await corral(['template', 'build', 'debian']);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toBe('corral: template debian exists: remove it first (corral template rm debian) or choose another name (--name)\n');
    const bad = await corral(['template', 'build', 'debian', '--name', uniqueName('x'), '--include', 'a;b']);
    expect(bad.stderr).toMatch(/^corral: recipe debian: invalid include "a;b"/);
  });
});

describe('sharing', () => {
  it('100 containers of the debian template add only their own upper layers to disk', async () => {
    const deb = await templateInfo('debian');
    const before = du(inst.dataRoot);
    const names = Array.from({ length: 100 }, () => name('many'));
    // Four at a time: each is a real run that writes a file of its own into its upper layer.
    for (let i = 0; i < names.length; i += 4) {
      await Promise.all(names.slice(i, i + 4).map((n) => ok(['run', '--name', n, '--network', 'none', 'debian', 'sh', '-c', 'echo "$HOSTNAME" > /mine'])));
    }
    const after = du(inst.dataRoot);
    const added = after - before;
    console.log(`100 debian containers: template ${(deb.sizeBytes / 1e6).toFixed(1)} MB; the data root grew by ${(added / 1e6).toFixed(2)} MB (${(added / 100 / 1024).toFixed(1)} KiB each; 100 copies would be ${((deb.sizeBytes * 100) / 1e9).toFixed(1)} GB)`);
    expect(added).toBeLessThan(deb.sizeBytes);
    expect(added).toBeLessThan(100 * 1024 * 1024);
    const one = await corral(['inspect', names[7]!]);
    expect(JSON.parse(one.stdout)[0].rootfs.lower).toEqual(deb.layers.map((l: { path: string }) => l.path));
    await ok(['rm', ...names]);
    containers.splice(containers.indexOf(names[0]!), names.length);
  }, 900_000);
});
