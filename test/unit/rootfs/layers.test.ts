import { chmodSync, mkdirSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planCommit, MAX_TEMPLATE_LAYERS } from '../../../src/rootfs/depth.js';
import { layersDigest, treeDigest } from '../../../src/rootfs/digest.js';
import { mergedArgv } from '../../../src/rootfs/merged.js';
import type { LayerRecord } from '../../../src/rootfs/record.js';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'corral-layers-'));
});
afterEach(() => rm(base, { recursive: true, force: true }));

function tree(dir: string, content = 'hello'): void {
  mkdirSync(join(dir, 'etc/sub'), { recursive: true });
  writeFileSync(join(dir, 'etc/a'), content);
  writeFileSync(join(dir, 'etc/sub/b'), 'b');
  symlinkSync('a', join(dir, 'etc/link'));
  chmodSync(join(dir, 'etc/sub'), 0o750);
}

describe('treeDigest', () => {
  it('is the same for the same files and changes with content, mode, names and links', async () => {
    const a = join(base, 'a');
    const b = join(base, 'b');
    tree(a);
    tree(b);
    const da = await treeDigest(a);
    expect(da.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await treeDigest(b)).digest).toBe(da.digest);
    writeFileSync(join(b, 'etc/a'), 'hellO');
    expect((await treeDigest(b)).digest).not.toBe(da.digest);
    writeFileSync(join(b, 'etc/a'), 'hello');
    chmodSync(join(b, 'etc/a'), 0o600);
    expect((await treeDigest(b)).digest).not.toBe(da.digest);
    chmodSync(join(b, 'etc/a'), 0o644);
    expect((await treeDigest(b)).digest).toBe(da.digest);
    writeFileSync(join(b, 'etc/c'), '');
    expect((await treeDigest(b)).digest).not.toBe(da.digest);
  });

  it('counts disk usage once per inode, as du does', async () => {
    const a = join(base, 'a');
    mkdirSync(a);
    writeFileSync(join(a, 'big'), Buffer.alloc(64 * 1024, 1));
    const one = (await treeDigest(a)).sizeBytes;
    linkSync(join(a, 'big'), join(a, 'again'));
    expect((await treeDigest(a)).sizeBytes).toBe(one);
    expect(one).toBeGreaterThanOrEqual(64 * 1024);
  });

  it('a template digest depends on its layers and their order', () => {
    expect(layersDigest(['sha256:1', 'sha256:2'])).not.toBe(layersDigest(['sha256:2', 'sha256:1']));
    expect(layersDigest(['sha256:1'])).toBe(layersDigest(['sha256:1']));
  });
});

describe('planCommit', () => {
  const layers = (n: number): LayerRecord[] => Array.from({ length: n }, (_, i) => ({ path: `t${i}/layers/${n - 1 - i}`, digest: `sha256:${i}`, sizeBytes: 1 }));

  it('stacks one layer on the parent, named by its depth, sharing the parent layers', () => {
    expect(planCommit(layers(1))).toEqual({ kind: 'stack', ownDir: '1', shared: layers(1) });
    expect(planCommit(layers(3))).toEqual({ kind: 'stack', ownDir: '3', shared: layers(3) });
  });

  it(`flattens when the result would pass ${MAX_TEMPLATE_LAYERS} layers`, () => {
    expect(planCommit(layers(MAX_TEMPLATE_LAYERS - 1)).kind).toBe('stack');
    expect(planCommit(layers(MAX_TEMPLATE_LAYERS))).toEqual({ kind: 'flatten', ownDir: '0' });
    expect(planCommit(layers(2), 2)).toEqual({ kind: 'flatten', ownDir: '0' });
  });
});

describe('mergedArgv', () => {
  it('mounts the overlay in a private mount namespace, then execs the command on the mount point', () => {
    const a = mergedArgv('/usr/bin/unshare', '/run/m', ['/d/upper', '/d/t/layers/0'], (root) => ['tar', '-C', root, '-cf', '-', '.']);
    expect(a.file).toBe('/usr/bin/unshare');
    expect(a.args.slice(0, 6)).toEqual(['--mount', '--propagation', 'private', '--', '/bin/sh', '-c']);
    expect(a.args.slice(7)).toEqual(['sh', '/run/m', '/d/upper:/d/t/layers/0', 'tar', '-C', '/run/m', '-cf', '-', '.']);
  });

  it('needs no mount for one layer, and refuses paths overlayfs would split', () => {
    expect(mergedArgv('/u', '/m', ['/d/l'], (root) => ['cp', '-a', `${root}/.`, '/out'])).toEqual({ file: 'cp', args: ['-a', '/d/l/.', '/out'] });
    expect(() => mergedArgv('/u', '/m', ['/a:b', '/c'], () => ['x'])).toThrow(/without ':'/);
    expect(() => mergedArgv('/u', '/m', ['rel', '/c'], () => ['x'])).toThrow(/must be absolute/);
  });
});
