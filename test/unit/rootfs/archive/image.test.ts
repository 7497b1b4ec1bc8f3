import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { goArch, readImage } from '../../../../src/rootfs/archive/image.js';
import { nameFromReference } from '../../../../src/rootfs/archive/image-name.js';
import { file, scratch, tar } from './tar-fixture.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let s: Awaited<ReturnType<typeof scratch>>;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.cleanup();
});

const layerTar = tar(file('hello', 'world'));
const config = Buffer.from(JSON.stringify({ config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Env: ['A=1'], WorkingDir: '/srv', User: '1000:1000', StopSignal: 'SIGQUIT' }, rootfs: { type: 'layers', diff_ids: [sha(layerTar)] } }));

async function blob(root: string, content: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha(content);
  await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(root, 'blobs', 'sha256', digest.slice(7)), content);
  return { digest, size: content.length };
}

/** An OCI layout; `tamper` rewrites a blob after its descriptor was made. */
async function ociLayout(root: string, o: { tamper?: 'layer' | 'size'; platform?: string } = {}): Promise<void> {
  await mkdir(root, { recursive: true });
  const l = await blob(root, layerTar);
  const c = await blob(root, config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l, ...(o.tamper === 'size' ? { size: l.size + 1 } : {}) }] }));
  const m = await blob(root, manifest);
  const platform = o.platform ? { platform: { os: 'linux', architecture: o.platform } } : {};
  await writeFile(join(root, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, ...platform, annotations: { 'org.opencontainers.image.ref.name': 'example.com/team/app:1.2' } }] }));
  await writeFile(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  if (o.tamper === 'layer') await writeFile(join(root, 'blobs', 'sha256', l.digest.slice(7)), tar(file('hello', 'evil!')));
}

describe('readImage', () => {
  it('reads an OCI layout: layers in order, the config defaults, the tag', async () => {
    await ociLayout(s.dest, { platform: goArch() });
    const img = await readImage(s.dest);
    expect(img.format).toBe('oci');
    expect(img.layers.map((l) => l.digest)).toEqual([sha(layerTar)]);
    expect(img.config).toEqual({ entrypoint: ['/bin/sh', '-c'], cmd: ['echo hi'], env: ['A=1'], workingDir: '/srv', user: '1000:1000', stopSignal: 'SIGQUIT' });
    expect(img.tags).toEqual(['example.com/team/app:1.2']);
    expect(img.id).toBe(sha(config));
  });

  it('refuses a blob whose content does not match its digest', async () => {
    await ociLayout(s.dest, { tamper: 'layer' });
    await expect(readImage(s.dest)).rejects.toThrow(/layer 1: digest mismatch: the descriptor says sha256:[0-9a-f]{64}, the content is sha256:/);
  });

  it('refuses a blob whose size does not match its descriptor', async () => {
    await ociLayout(s.dest, { tamper: 'size' });
    await expect(readImage(s.dest)).rejects.toThrow(/layer 1: size 2048 does not match the descriptor.s 2049/);
  });

  it('skips images for other platforms', async () => {
    await ociLayout(s.dest, { platform: goArch() === 'arm64' ? 'amd64' : 'arm64' });
    await expect(readImage(s.dest)).rejects.toThrow(/no image for linux\//);
  });

  it('reads a classic docker save and checks layers against the diff_ids', async () => {
    await mkdir(join(s.dest, 'abc'), { recursive: true });
    await writeFile(join(s.dest, `${sha(config).slice(7)}.json`), config);
    await writeFile(join(s.dest, 'abc', 'layer.tar'), layerTar);
    await writeFile(join(s.dest, 'manifest.json'), JSON.stringify([{ Config: `${sha(config).slice(7)}.json`, RepoTags: ['alpine:3.19'], Layers: ['abc/layer.tar'] }]));
    const img = await readImage(s.dest);
    expect(img.format).toBe('docker-save');
    expect(img.tags).toEqual(['alpine:3.19']);
    await writeFile(join(s.dest, 'abc', 'layer.tar'), tar(file('hello', 'evil!')));
    await expect(readImage(s.dest)).rejects.toThrow(/layer 1 \(abc\/layer.tar\): digest mismatch: the config says sha256:/);
  });

  it('refuses file names in manifest.json that climb out of the archive', async () => {
    await mkdir(s.dest);
    await writeFile(join(s.dest, 'manifest.json'), JSON.stringify([{ Config: `../${'a'.repeat(64)}.json`, Layers: [] }]));
    await expect(readImage(s.dest)).rejects.toThrow(/config: refused entry "\.\.\/a+\.json": file name climbs out of the layer/);
  });

  it('says what a rootfs tarball is not', async () => {
    await mkdir(s.dest);
    await expect(readImage(s.dest)).rejects.toThrow(/not an image: no oci-layout or manifest.json/);
  });
});

describe('nameFromReference', () => {
  it.each([
    ['docker.io/library/alpine:3.19', 'alpine-3.19'],
    ['alpine', 'alpine'],
    ['alpine:latest', 'alpine'],
    ['localhost/web:latest', 'web'],
    ['localhost:5000/Team/App:V2', 'team-app-v2'],
    ['ghcr.io/acme/tools/cli:v2', 'acme-tools-cli-v2'],
    ['alpine@sha256:' + 'a'.repeat(64), 'alpine'],
    ['3.19', '3.19'],
    ['__', undefined],
  ])('%s → %s', (ref, name) => {
    expect(nameFromReference(ref)).toBe(name);
  });
});
