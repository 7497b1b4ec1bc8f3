import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PATHS, type CorralPaths } from '../../../src/config.js';
import { CommandFailedError, NotFoundError, ValidationError } from '../../../src/errors.js';
import { TemplateStore } from '../../../src/rootfs/templates.js';
import { ExecaRunner, RecordingRunner } from '../../../src/system/runner.js';

let base: string;
let paths: CorralPaths;
let sources: string;
const exists = (p: string) => stat(p).then(() => true, () => false);

async function addSource(name: string, script = '#!/bin/sh\nexit 0\n'): Promise<void> {
  await mkdir(join(sources, name), { recursive: true });
  await writeFile(join(sources, name, 'template.json'), JSON.stringify({ name, description: `${name} test template`, defaultCommand: ['sh'], env: ['PATH=/bin'] }));
  await writeFile(join(sources, name, 'build'), script);
  chmodSync(join(sources, name, 'build'), 0o755);
}

/** Plays the build script: fills OUTPUT_DIR (args[1]) the way the real one would, minus busybox. */
function fakeBuild(file: string, args: readonly string[]) {
  const out = args[1]!;
  mkdirSync(join(out, 'bin'), { recursive: true });
  writeFileSync(join(out, 'bin', 'busybox'), 'x'.repeat(100));
  mkdirSync(join(out, 'tmp'));
  chmodSync(join(out, 'tmp'), 0o1777);
  return { stdout: `built into ${out}` };
}

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'corral-tpl-'));
  sources = join(base, 'sources');
  paths = { ...DEFAULT_PATHS, dataRoot: join(base, 'data') };
  await addSource('busybox');
  await addSource('other');
});
afterEach(() => rm(base, { recursive: true, force: true }));

describe('TemplateStore', () => {
  it('lists the template sources, not built yet', async () => {
    const store = new TemplateStore(paths, new RecordingRunner(), { sourcesDir: sources });
    expect(await store.list()).toEqual([
      { name: 'busybox', description: 'busybox test template', path: join(paths.dataRoot, 'templates/busybox/rootfs'), built: false, builtAt: null, sizeBytes: null },
      { name: 'other', description: 'other test template', path: join(paths.dataRoot, 'templates/other/rootfs'), built: false, builtAt: null, sizeBytes: null },
    ]);
  });

  it('builds through the runner into a temp dir, then moves it into place with meta.json', async () => {
    const runner = new RecordingRunner(fakeBuild);
    const store = new TemplateStore(paths, runner, { sourcesDir: sources });
    const progress: string[] = [];
    const t = await store.ensureBuilt('busybox', (m) => progress.push(m));
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]!.file).toBe('/bin/sh');
    expect(runner.calls[0]!.args[0]).toBe(join(sources, 'busybox', 'build'));
    expect(runner.calls[0]!.args[1]).toMatch(new RegExp(`^${paths.dataRoot}/templates/busybox\\.tmp-[0-9a-f]+/rootfs$`));
    expect(t).toMatchObject({ name: 'busybox', built: true, sizeBytes: 100, defaultCommand: ['sh'], env: ['PATH=/bin'] });
    expect(Date.parse(t.builtAt!)).not.toBeNaN();
    expect(await readdir(join(paths.dataRoot, 'templates'))).toEqual(['busybox']);
    expect(JSON.parse(await readFile(join(paths.dataRoot, 'templates/busybox/meta.json'), 'utf8'))).toMatchObject({ name: 'busybox', sizeBytes: 100 });
    // Modes stay as built: the rootfs is read-only by being an overlay lower layer only.
    expect((await stat(join(t.path, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(progress[0]).toBe('building template busybox');
    expect(progress).toContain(`built into ${runner.calls[0]!.args[1]}`);
    expect(progress.at(-1)).toMatch(/^template busybox built in \d+\.\ds$/);
  });

  it('builds once for concurrent callers and never again once built', async () => {
    const runner = new RecordingRunner(fakeBuild);
    const store = new TemplateStore(paths, runner, { sourcesDir: sources });
    const got = await Promise.all([store.ensureBuilt('busybox'), store.ensureBuilt('busybox'), store.resolve('busybox')]);
    expect(runner.calls).toHaveLength(1);
    expect(got[2]).toEqual({ rootfs: got[0]!.path, env: ['PATH=/bin'], command: ['sh'] });
    await store.ensureBuilt('busybox');
    await new TemplateStore(paths, runner, { sourcesDir: sources }).ensureBuilt('busybox');
    expect(runner.calls).toHaveLength(1);
    expect((await store.list()).map((t) => t.built)).toEqual([true, false]);
  });

  it('leaves nothing behind when the build fails, names the template, and can retry', async () => {
    let fail = true;
    const runner = new RecordingRunner((f, a) => {
      if (!fail) return fakeBuild(f, a);
      mkdirSync(a[1]!, { recursive: true });
      return { exitCode: 1, stderr: 'busybox-static is not installed\nbuild: apt-get download busybox-static failed' };
    });
    const store = new TemplateStore(paths, runner, { sourcesDir: sources });
    const err = await store.ensureBuilt('busybox').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as Error).message).toBe('build template busybox: build: apt-get download busybox-static failed');
    expect(await readdir(join(paths.dataRoot, 'templates'))).toEqual([]);
    expect((await store.get('busybox')).built).toBe(false);
    fail = false;
    expect((await store.ensureBuilt('busybox')).built).toBe(true);
  });

  it('removes leftovers of a crashed build and replaces a directory without meta.json', async () => {
    const dir = join(paths.dataRoot, 'templates');
    await mkdir(join(dir, 'busybox.tmp-dead/rootfs/bin'), { recursive: true });
    await mkdir(join(dir, 'other.tmp-dead'), { recursive: true });
    await mkdir(join(dir, 'busybox/rootfs/half'), { recursive: true });
    const store = new TemplateStore(paths, new RecordingRunner(fakeBuild), { sourcesDir: sources });
    expect((await store.get('busybox')).built).toBe(false);
    await store.ensureBuilt('busybox');
    expect((await readdir(dir)).sort()).toEqual(['busybox', 'other.tmp-dead']);
    expect(await exists(join(dir, 'busybox/rootfs/half'))).toBe(false);
  });

  it('names the available templates for an unknown one and refuses path-like names', async () => {
    const store = new TemplateStore(paths, new RecordingRunner(fakeBuild), { sourcesDir: sources });
    const err = await store.ensureBuilt('alpine').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe('template "alpine" not found (available: busybox, other)');
    await expect(store.get('../busybox')).rejects.toThrow(ValidationError);
    await expect(store.ensureBuilt('a/b')).rejects.toThrow(ValidationError);
  });

  it('runs a real build script with its output dir', async () => {
    await addSource('tiny', '#!/bin/sh\nset -eu\nmkdir -p "$1/bin" "$1/etc"\necho root:x:0:0::/root:/bin/sh > "$1/etc/passwd"\necho "tiny done"\n');
    const store = new TemplateStore(paths, new ExecaRunner(), { sourcesDir: sources });
    const progress: string[] = [];
    const t = await store.ensureBuilt('tiny', (m) => progress.push(m));
    expect(await readFile(join(t.path, 'etc/passwd'), 'utf8')).toBe('root:x:0:0::/root:/bin/sh\n');
    expect(progress).toContain('tiny done');
  });

  it('finds the packaged sources by default', async () => {
    const store = new TemplateStore(paths, new RecordingRunner());
    const names = (await store.list()).map((t) => t.name);
    expect(names).toContain('busybox');
    expect((await store.get('busybox')).defaultCommand).toEqual(['sh']);
  });
});
