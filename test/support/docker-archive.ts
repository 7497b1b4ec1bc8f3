import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** A one-layer docker-archive (`docker save`'s format) of ROOTFS tagged TAG, written to OUT. */
export async function dockerArchive(rootfs: string, out: string, tag: string): Promise<void> {
  const d = await mkdtemp(`${out}.d-`);
  try {
    await execa('tar', ['-C', rootfs, '-cf', join(d, 'layer.tar'), '.']);
    const layer = await readFile(join(d, 'layer.tar'));
    const diff = createHash('sha256').update(layer).digest('hex');
    await mkdir(join(d, diff));
    await writeFile(join(d, diff, 'layer.tar'), layer);
    const config = JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diff}`] },
    });
    const cfg = createHash('sha256').update(config).digest('hex');
    await writeFile(join(d, `${cfg}.json`), config);
    await writeFile(join(d, 'manifest.json'), JSON.stringify([{ Config: `${cfg}.json`, RepoTags: [tag], Layers: [`${diff}/layer.tar`] }]));
    await execa('tar', ['-C', d, '-cf', out, 'manifest.json', `${cfg}.json`, `${diff}/layer.tar`]);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
}
