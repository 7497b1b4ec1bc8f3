import { createHash } from 'node:crypto';
import { chmod, chown, lchown, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goArch } from '../../src/rootfs/archive/image.js';
import { CLI, corral, envOf, installation } from '../support/corral.js';

/**
 * Images made offline from local content (the busybox template's rootfs and files written here):
 * layers written with GNU tar — one deletes files (`.wh.` whiteouts), one makes a directory opaque
 * (`.wh..wh..opq`) — put in an OCI layout, loaded by podman into a storage of its own, and saved by
 * podman as a docker-archive and an oci-archive. Each loads through `corral template load`, runs
 * with its own Cmd, Env and WorkingDir, and unpacks to exactly what `umoci raw unpack` makes of the
 * same image.
 */
const TOOLS = ['podman', 'umoci'];
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const run = (file: string, args: string[], opts: { cwd?: string } = {}) => execa(file, args, { ...opts, stdout: 'pipe', stderr: 'pipe', encoding: 'buffer' });

async function ensureTools(): Promise<void> {
  const missing: string[] = [];
  for (const t of TOOLS) if ((await execa('sh', ['-c', `command -v ${t}`], { reject: false })).exitCode !== 0) missing.push(t);
  if (missing.length === 0) return;
  // Debian packages, as references to test against (not dependencies of Corral).
  await execa('apt-get', ['update', '-qq'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
  await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
}

/**
 * podman with everything of its own under `dir`: storage (vfs, so no mounts), run root, temp files
 * and configuration (no registries, no events), in a network namespace with only loopback (no
 * traffic) and a mount namespace where a tmpfs hides the host's /var/lib/containers (root's podman
 * keeps a blob-info cache there whatever its --root).
 */
function podman(dir: string, args: string[]) {
  const p = ['podman', '--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'vfs', '--tmpdir', join(dir, 'tmp'), '--events-backend', 'none', '--cgroup-manager', 'cgroupfs', ...args];
  const script = 'if [ -d /var/lib/containers ]; then mount -t tmpfs -o mode=0700 podman-cache /var/lib/containers || exit 1; fi; exec "$@"';
  return execa('unshare', ['--mount', '--net', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', ...p], {
    env: { CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), TMPDIR: join(dir, 'tmp') },
    stdout: 'pipe', stderr: 'pipe',
  });
}

async function podmanConfig(dir: string): Promise<void> {
  for (const d of ['root', 'runroot', 'tmp', 'networks']) await mkdir(join(dir, d), { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'containers.conf'), `[containers]\nnetns = "none"\n[engine]\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\ntmp_dir = "${join(dir, 'tmp')}"\n[network]\nnetwork_config_dir = "${join(dir, 'networks')}"\n`);
  await writeFile(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  await writeFile(join(dir, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'root')}"\nrunroot = "${join(dir, 'runroot')}"\n`);
}

/** corral with a file on stdin (the CLI streams it to corrald). */
function corralStdin(args: string[], inputFile: string) {
  return execa(process.execPath, [CLI, ...args], { env: envOf(installation()), reject: false, inputFile, timeout: 120_000, stripFinalNewline: false });
}

/** path → type, mode, owner, size, content hash or link target; the tree as `umoci raw unpack` sees it. */
async function manifestOf(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const p = join(root, r);
    const st = await lstat(p);
    const head = `${r} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isDirectory()) out.push(`${head} dir`, ...(await manifestOf(root, r)));
    else if (st.isSymbolicLink()) out.push(`${head} -> ${await readlink(p)}`);
    else if (st.isFile()) out.push(`${head} file ${st.size} ${sha(await readFile(p))}`);
    else out.push(`${head} special ${st.rdev}`);
  }
  return out;
}

describe.skipIf(process.getuid?.() !== 0)('template load: docker-archive and oci-archive images', () => {
  let work: string;
  const tag = `corral-it-${process.pid}`;
  const names = [`${tag}-1`, `${tag}-oci`, `${tag}-dir`, `${tag}-stdin`, `${tag}-rootfs`];
  let reference: string[];

  beforeAll(async () => {
    await ensureTools();
    work = await mkdtemp(join(tmpdir(), 'corral-load-it-'));
    // The busybox template's one layer, wherever the store keeps it.
    const info = await corral(['template', 'inspect', 'busybox']);
    expect(info.exitCode, info.stderr).toBe(0);
    const busybox: string = JSON.parse(info.stdout)[0].layers[0].path;

    // Layer 1: busybox's rootfs plus files the next layer removes or hides.
    const l1 = join(work, 'l1');
    await mkdir(join(l1, 'data', 'old'), { recursive: true });
    await writeFile(join(l1, 'data', 'old', 'a'), 'a\n');
    await writeFile(join(l1, 'data', 'keep-hidden'), 'hidden by the opaque directory\n');
    await writeFile(join(l1, 'etc-removed'), 'removed by a whiteout\n');
    await writeFile(join(l1, 'stays'), 'stays\n');
    const layer1 = join(work, 'layer1.tar');
    await run('tar', ['--numeric-owner', '-cf', layer1, '-C', busybox, '.']);
    await run('tar', ['--numeric-owner', '-rf', layer1, '-C', l1, 'data', 'etc-removed', 'stays']);

    // Layer 2: a whiteout, an opaque directory with new content, the app's workdir, a setuid
    // file owned by 1000, a hardlink and a symlink.
    const l2 = join(work, 'l2');
    await mkdir(join(l2, 'data'), { recursive: true });
    await mkdir(join(l2, 'srv', 'app'), { recursive: true });
    await writeFile(join(l2, '.wh.etc-removed'), '');
    await writeFile(join(l2, 'data', '.wh..wh..opq'), '');
    await writeFile(join(l2, 'data', 'new'), 'new\n');
    await writeFile(join(l2, 'srv', 'app', 'tool'), '#!/bin/sh\necho tool\n');
    await chown(join(l2, 'srv', 'app', 'tool'), 1000, 1000);
    await chmod(join(l2, 'srv', 'app', 'tool'), 0o4755); // after chown, which clears setuid
    await link(join(l2, 'srv', 'app', 'tool'), join(l2, 'srv', 'app', 'tool-link'));
    await symlink('../data/new', join(l2, 'srv', 'new-link'));
    await lchown(join(l2, 'srv', 'new-link'), 1000, 1000);
    const layer2 = join(work, 'layer2.tar');
    await run('tar', ['--numeric-owner', '-cf', layer2, '-C', l2, '.wh.etc-removed', 'data', 'srv']);
    await run('gzip', ['-k', layer2]);

    // An OCI layout by hand: gzip'd second layer, config with Cmd, Env and WorkingDir.
    const layout = join(work, 'layout');
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    const blob = async (b: Buffer) => {
      await writeFile(join(layout, 'blobs', 'sha256', sha(b)), b);
      return { digest: `sha256:${sha(b)}`, size: b.length };
    };
    const t1 = await readFile(layer1);
    const t2 = await readFile(layer2);
    const g2 = await readFile(`${layer2}.gz`);
    const config = Buffer.from(JSON.stringify({
      architecture: goArch(), os: 'linux',
      config: { Cmd: ['sh', '-c', 'echo from-cmd; echo "GREETING=$GREETING"; pwd'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello from the image'], WorkingDir: '/srv/app' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha(t1)}`, `sha256:${sha(t2)}`] },
    }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await blob(config)) },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', ...(await blob(t1)) },
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await blob(g2)) },
      ],
    }));
    const m = await blob(manifest);
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': '1' } }] }));
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

    // Loaded by podman (from the layout as an oci-archive) into a storage of its own, tagged, and
    // saved by podman in both archive formats; umoci's unpacking of the layout is the reference.
    const pod = join(work, 'podman');
    await podmanConfig(pod);
    await run('tar', ['-cf', join(work, 'layout.tar'), '-C', layout, '.']);
    const loaded = await podman(pod, ['load', '-q', '-i', join(work, 'layout.tar')]);
    expect(loaded.stdout).toMatch(/^Loaded image: localhost\/1:latest$/m);
    await podman(pod, ['tag', 'localhost/1:latest', `localhost/${tag}:1`, `${tag}:oci`]);
    await podman(pod, ['save', '-q', '--format', 'docker-archive', '-o', join(work, 'image-docker.tar'), `localhost/${tag}:1`]);
    await podman(pod, ['save', '-q', '--format', 'oci-archive', '-o', join(work, 'image-oci.tar'), `localhost/${tag}:oci`]);
    await rm(pod, { recursive: true, force: true });
    await run('umoci', ['raw', 'unpack', '--image', `${layout}:1`, join(work, 'umoci')]);
    reference = await manifestOf(join(work, 'umoci'));
  }, 600_000);

  afterAll(async () => {
    for (const n of names) await corral(['template', 'rm', n]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** An imported template's one (flattened) layer, as the store reports it. */
  const rootfs = async (name: string): Promise<string> => {
    const r = await corral(['template', 'inspect', name]);
    expect(r.exitCode, r.stderr).toBe(0);
    const layers: { path: string }[] = JSON.parse(r.stdout)[0].layers;
    expect(layers).toHaveLength(1);
    return layers[0]!.path;
  };

  it('loads a docker-archive, named after its tag, identical to umoci raw unpack', async () => {
    const r = await corral(['load', '-i', join(work, 'image-docker.tar')], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Loaded template ${tag}-1 (2 layers, from localhost/${tag}:1)\n`);
    expect(await manifestOf(await rootfs(`${tag}-1`))).toEqual(reference);
    // what the layers did
    await expect(lstat(join(await rootfs(`${tag}-1`), 'etc-removed'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(await rootfs(`${tag}-1`), 'data'))).toEqual(['new']);
    expect((await lstat(join(await rootfs(`${tag}-1`), 'srv/app/tool'))).mode & 0o7777).toBe(0o4755);
    expect((await lstat(join(await rootfs(`${tag}-1`), 'srv/app/tool'))).nlink).toBe(2);
  });

  it('runs with the image\'s own Cmd, Env and WorkingDir', async () => {
    const r = await corral(['run', '--rm', '--network', 'none', `${tag}-1`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from-cmd\nGREETING=hello from the image\n/srv/app\n');
  });

  it('--entrypoint replaces the entrypoint; the command becomes its arguments', async () => {
    const r = await corral(['run', '--rm', '--network', 'none', '--entrypoint', '/bin/echo', `${tag}-1`, 'args', 'only']);
    expect(r.stdout).toBe('args only\n');
  });

  it('loads an oci-archive and an OCI layout directory the same way', async () => {
    const oci = await corral(['template', 'load', '-i', join(work, 'image-oci.tar'), '--name', `${tag}-oci`], { timeoutMs: 120_000 });
    expect(oci.stdout).toBe(`Loaded template ${tag}-oci (2 layers, from localhost/${tag}:oci)\n`);
    expect(await manifestOf(await rootfs(`${tag}-oci`))).toEqual(reference);
    const dir = await corral(['load', '-i', join(work, 'layout'), '--name', `${tag}-dir`], { timeoutMs: 120_000 });
    expect(dir.exitCode).toBe(0);
    expect(await manifestOf(await rootfs(`${tag}-dir`))).toEqual(reference);
  });

  it('reads the archive from stdin', async () => {
    const r = await corralStdin(['load', '--name', `${tag}-stdin`], join(work, 'image-docker.tar'));
    expect(r.exitCode).toBe(0);
    expect(await manifestOf(await rootfs(`${tag}-stdin`))).toEqual(reference);
  });

  it('refuses a name that is taken, and leaves no work directory', async () => {
    const r = await corral(['load', '-i', join(work, 'image-docker.tar')], { timeoutMs: 120_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`template "${tag}-1" already exists`));
    expect((await readdir(join(installation().dataRoot, 'templates'))).filter((e) => e.startsWith('.import-') || e.includes('.tmp-'))).toEqual([]);
  });

  it('template import: an xz rootfs tarball from stdin', async () => {
    await run('xz', ['-k', '-T1', join(work, 'layer1.tar')]);
    const r = await corralStdin(['template', 'import', `${tag}-rootfs`, '-'], join(work, 'layer1.tar.xz'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Imported template ${tag}-rootfs \\(\\d+ entries, \\d+ bytes\\)\n$`));
    const cat = await corral(['run', '--rm', '--network', 'none', `${tag}-rootfs`, 'cat', '/etc-removed']);
    expect(cat.stdout).toBe('removed by a whiteout\n');
  });

  it('refuses a hostile tarball through the CLI, leaving nothing behind', async () => {
    const evil = join(work, 'evil.tar');
    await mkdir(join(work, 'evil'));
    await symlink('/etc', join(work, 'evil', 'etc'));
    await run('tar', ['-cf', evil, '-C', join(work, 'evil'), 'etc']);
    // then a member written through the symlink: appended with a transformed name
    await writeFile(join(work, 'payload'), 'pwned\n');
    await run('tar', ['-rf', evil, '-C', work, '--transform', 's,^payload$,etc/corral-pwned,', 'payload']);
    const r = await corral(['template', 'import', `${tag}-evil`, evil]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('refused entry "etc/corral-pwned": its parent "etc" is a symlink, and nothing is written through a symlink');
    await expect(lstat('/etc/corral-pwned')).rejects.toThrow(/ENOENT/);
    expect((await readdir(join(installation().dataRoot, 'templates'))).filter((e) => e.includes(`${tag}-evil`) || e.startsWith('.import-'))).toEqual([]);
  });
});
