import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PATHS } from '../../src/config.js';
import { TemplateStore } from '../../src/rootfs/templates.js';
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
    expect(t).toMatchObject({ name: 'busybox', built: true, path: join(base, 'data/templates/busybox/rootfs') });
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
