import { mkdir, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PATHS } from '../../src/config.js';
import { mergedArgv } from '../../src/rootfs/merged.js';
import { CommitSource } from '../../src/rootfs/sources/commit.js';
import { TemplateStore } from '../../src/rootfs/templates.js';
import { findProgram } from '../../src/system/which.js';
import { ExecaRunner, type RunOptions, type RunResult, type Runner } from '../../src/system/runner.js';

/** Really builds the busybox template (Debian's busybox-static) into a data root of its own. Needs root. */
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('\n*** SKIPPED test/integration/templates.test.ts: building a template needs root (file ownership) ***\n');

class CountingRunner implements Runner {
  calls = 0;
  private readonly inner = new ExecaRunner();
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.calls++;
    return this.inner.run(file, args, options);
  }
}

describe.skipIf(!isRoot)('busybox template', () => {
  let base: string;
  let store: TemplateStore;
  const runner = new CountingRunner();

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'corral-tpl-it-'));
    store = new TemplateStore({ ...DEFAULT_PATHS, dataRoot: join(base, 'data') }, runner);
  });
  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('builds on first use into <dataRoot>/templates/busybox', async () => {
    const progress: string[] = [];
    const t = await store.ensureBuilt('busybox', (m) => progress.push(m));
    expect(t).toMatchObject({ name: 'busybox', built: true, status: 'ready', path: join(base, 'data/templates/busybox/layers/0') });
    expect(t.sizeBytes).toBeGreaterThan(1_000_000);
    expect(progress.join('\n')).toMatch(/busybox template: .*busybox-static/);

    expect(await readlink(join(t.path, 'bin/sh'))).toBe('busybox');
    expect(await readlink(join(t.path, 'usr/bin/awk'))).toBe('../../bin/busybox');
    expect((await stat(join(t.path, 'bin/sh'))).mode & 0o111).not.toBe(0);
    const passwd = await readFile(join(t.path, 'etc/passwd'), 'utf8');
    expect(passwd).toMatch(/^root:x:0:0:/m);
    expect(passwd).toMatch(/^corral:x:1000:1000:/m);
    expect(passwd).toMatch(/^nobody:x:65534:65534:/m);
    expect(await readFile(join(t.path, 'etc/resolv.conf'), 'utf8')).toBe('# managed by corral\n');
    expect((await stat(join(t.path, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect((await stat(join(t.path, 'root'))).mode & 0o7777).toBe(0o700);
    expect((await stat(join(t.path, 'home/corral'))).uid).toBe(1000);
  });

  it('does not rebuild once built', async () => {
    const before = await store.get('busybox');
    const again = await store.ensureBuilt('busybox');
    expect(runner.calls).toBe(1);
    expect(again.builtAt).toBe(before.builtAt);
    expect((await store.list()).find((t) => t.name === 'busybox')?.built).toBe(true);
  });
});

describe.skipIf(!isRoot)('commit sources on real overlay layers', () => {
  let base: string;
  let store: TemplateStore;
  const runner = new ExecaRunner();
  let unshare: string;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'corral-commit-it-'));
    store = new TemplateStore({ ...DEFAULT_PATHS, dataRoot: join(base, 'data') }, runner);
    unshare = await findProgram('unshare');
    await store.ensureBuilt('busybox');
  }, 600_000);
  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  /** An upper layer as a container leaves it: overlayfs itself writes the whiteout and the opaque dir. */
  async function containerUpper(lower: string[]): Promise<string> {
    const dir = await mkdtemp(join(base, 'c-'));
    for (const d of ['upper', 'work', 'mnt']) await mkdir(join(dir, d));
    const script = 'mount -t overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" x "$4" && cd "$4" && rm etc/shells && rm -rf home && mkdir home && echo new > home/new && echo mine > mine';
    await runner.run(unshare, ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', lower.join(':'), join(dir, 'upper'), join(dir, 'work'), join(dir, 'mnt')]);
    return join(dir, 'upper');
  }

  /** What a container of the template sees: `ls` of some paths in the merged view. */
  async function view(name: string): Promise<string> {
    const layers = (await store.resolve(name)).layers;
    const mnt = await mkdtemp(join(base, 'v-'));
    const a = mergedArgv(unshare, mnt, layers, (root) => ['/bin/sh', '-c', 'cd "$1" && ls -A home && cat mine && { test -e etc/shells && echo shells || echo no shells; } && ls bin/busybox', 'sh', root]);
    return (await runner.run(a.file, a.args, { allowFailure: true })).stdout;
  }

  it('stacks the upper layer on the parent: whiteouts and opaque directories keep their meaning', async () => {
    const parent = await store.record('busybox');
    const upper = await containerUpper(store.layerDirs(parent));
    const r = await store.add('stacked', new CommitSource({ container: { id: 'x'.repeat(64), name: 'c1' }, upper, parent, parentDirs: store.layerDirs(parent), unshare }, runner));
    expect(r.layers.map((l) => l.path)).toEqual(['stacked/layers/1', ...parent.layers.map((l) => l.path)]);
    expect(await view('stacked')).toBe('new\nmine\nno shells\nbin/busybox');
    // The whiteout is in the copied layer as overlayfs made it: a character device 0:0.
    const st = await stat(join(base, 'data/templates/stacked/layers/1/etc/shells'));
    expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
  });

  it('flattens past the depth limit into one layer that shares nothing and looks the same', async () => {
    const parent = await store.record('busybox');
    const upper = await containerUpper(store.layerDirs(parent));
    const r = await store.add('flat', new CommitSource({ container: { id: 'x'.repeat(64), name: 'c2' }, upper, parent, parentDirs: store.layerDirs(parent), unshare, maxLayers: 1 }, runner));
    expect(r.layers.map((l) => l.path)).toEqual(['flat/layers/0']);
    expect(r.source).toMatchObject({ kind: 'commit', flattened: true, parent: 'busybox' });
    expect(await view('flat')).toBe('new\nmine\nno shells\nbin/busybox');
    await expect(stat(join(base, 'data/templates/flat/layers/0/etc/shells'))).rejects.toThrow();
    // Sharing nothing, it does not hold its parent.
    await store.remove('flat');
  });
});
