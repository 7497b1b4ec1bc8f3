import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fsNodes } from '../../../../src/rootfs/archive/fsnodes.js';
import { flattenLayers, layerDirs, type LayerSource } from '../../../../src/rootfs/archive/layers.js';
import { chunks, dir, file, scratch, symlink, tar, tree } from './tar-fixture.js';

const layer = (label: string, archive: Buffer): LayerSource => ({ label, open: () => chunks(archive) });
const isRoot = process.getuid?.() === 0;

let s: Awaited<ReturnType<typeof scratch>>;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.cleanup();
});

// Layer 1: a/{x,y}, d/sub/f, keep. Layer 2 whites out a/x and makes d opaque (its marker after
// d/new, which must survive: whiteouts hide lower layers only), and replaces keep.
const base = layer('1', tar(dir('a/'), file('a/x'), file('a/y'), dir('d/', { mode: 0o750 }), dir('d/sub/'), file('d/sub/f'), file('keep', 'old'), file('gone')));
const top = layer('2', tar(file('a/.wh.x', ''), file('d/new', 'n'), file('d/.wh..wh..opq', ''), file('keep', 'new'), file('.wh.gone', '')));

describe('flattenLayers', () => {
  it('applies whiteouts and opaque directories, bottom layer first', async () => {
    await flattenLayers([base, top], s.dest);
    const t = await tree(s.dest);
    expect(t.map((l) => l.split(' ')[0])).toEqual(['a/', 'a/y', 'd/', 'd/new', 'keep']);
    expect(await readFile(join(s.dest, 'keep'), 'utf8')).toBe('new');
  });

  it('a whiteout removes a whole directory', async () => {
    await flattenLayers([base, layer('2', tar(file('.wh.d', '')))], s.dest);
    await expect(lstat(join(s.dest, 'd'))).rejects.toThrow(/ENOENT/);
  });

  it('a whiteout never deletes through a symlink', async () => {
    await flattenLayers([layer('1', tar(symlink('l', join(s.base, 'sentinel')))), layer('2', tar(file('l/.wh.file', '')))], s.dest);
    expect(await readFile(join(s.base, 'sentinel', 'file'), 'utf8')).toBe('sentinel\n');
  });

  it('refuses whiteouts that climb out', async () => {
    const before = await s.snapshot();
    for (const name of ['a/.wh...', '.wh..', '../.wh.sentinel']) {
      await expect(flattenLayers([base, layer('2', tar(file(name, '')))], s.dest)).rejects.toThrow(new RegExp(`refused entry "${name.replace(/\./g, '\\.')}": (whiteout names no entry|path climbs out)`));
      expect(await s.snapshot()).toEqual(before);
    }
  });
});

describe.skipIf(!isRoot)('layerDirs (overlay lower directories; root)', () => {
  it('turns whiteouts into 0:0 character devices and opaque markers into the xattr', async () => {
    const { dirs } = await layerDirs([base, top], s.dest);
    expect(dirs).toEqual([join(s.dest, '0'), join(s.dest, '1')]);
    const wh = await lstat(join(dirs[1]!, 'a', 'x'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(fsNodes().lgetxattr(join(dirs[1]!, 'd'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    // d is not listed in layer 2: it takes its mode from layer 1, not 0755
    expect((await lstat(join(dirs[1]!, 'd'))).mode & 0o7777).toBe(0o750);
  });

  it('mounted with overlayfs, the layers show exactly the flattened tree', async () => {
    const { dirs } = await layerDirs([base, top], s.dest);
    const flat = join(s.base, 'flat');
    await flattenLayers([base, top], flat);
    const mnt = join(s.base, 'mnt');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dirs[1]}:${dirs[0]}`, mnt]);
    try {
      expect(await tree(mnt)).toEqual(await tree(flat));
    } finally {
      execFileSync('umount', [mnt]);
      await rm(mnt, { recursive: true });
    }
  });
});
