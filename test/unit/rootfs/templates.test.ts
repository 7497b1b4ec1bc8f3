import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PATHS, type CorralPaths } from '../../../src/config.js';
import { CommandFailedError, ConflictError, InvalidStateError, NotFoundError, ValidationError } from '../../../src/errors.js';
import type { LayerRecord } from '../../../src/rootfs/record.js';
import type { Produced, SourceContext, TemplateSource } from '../../../src/rootfs/source.js';
import { TemplateStore } from '../../../src/rootfs/templates.js';
import { ExecaRunner, RecordingRunner } from '../../../src/system/runner.js';

let base: string;
let paths: CorralPaths;
let sources: string;
let tdir: string;
const exists = (p: string) => stat(p).then(() => true, () => false);

async function addRecipe(name: string, extra: Record<string, unknown> = {}, script = '#!/bin/sh\nexit 0\n'): Promise<void> {
  await mkdir(join(sources, name), { recursive: true });
  await writeFile(join(sources, name, 'template.json'), JSON.stringify({ name, description: `${name} test template`, defaultCommand: ['sh'], env: ['PATH=/bin'], ...extra }));
  await writeFile(join(sources, name, 'build'), script);
  chmodSync(join(sources, name, 'build'), 0o755);
}

/** Plays the build script: fills OUTPUT_DIR (args[1]) the way the real one would, minus busybox. */
function fakeBuild(_file: string, args: readonly string[]) {
  const out = args[1]!;
  mkdirSync(join(out, 'bin'), { recursive: true });
  writeFileSync(join(out, 'bin', 'busybox'), 'x'.repeat(100));
  mkdirSync(join(out, 'tmp'));
  chmodSync(join(out, 'tmp'), 0o1777);
  return { stdout: `built into ${out}` };
}

/** A source that makes one own layer with one file, on top of `shared` layers. */
class FileSource implements TemplateSource {
  readonly label = 'test files';
  constructor(
    private readonly file: string,
    private readonly shared: LayerRecord[] = [],
    private readonly parent: string | null = null,
  ) {}
  async produce(ctx: SourceContext): Promise<Produced> {
    const own = String(this.shared.length);
    await mkdir(join(ctx.dir, 'layers', own), { recursive: true });
    await writeFile(join(ctx.dir, 'layers', own, this.file), this.file);
    ctx.progress(`made ${this.file}`);
    return {
      layers: [{ own }, ...this.shared.map((shared) => ({ shared }))],
      defaults: { command: ['sh'], entrypoint: [], env: ['A=1'], workdir: '/srv', user: '', stopSignal: 'SIGQUIT' },
      description: this.file,
      source: { kind: 'archive', format: 'rootfs-tar', file: `${this.file}.tar`, digest: 'sha256:00' },
      parent: this.parent,
    };
  }
}

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'corral-tpl-'));
  sources = join(base, 'sources');
  paths = { ...DEFAULT_PATHS, dataRoot: join(base, 'data') };
  tdir = join(paths.dataRoot, 'templates');
  await addRecipe('busybox', { autoBuild: true });
  await addRecipe('debian', { options: { suite: { description: 'a suite', default: 'bookworm', pattern: '[a-z]+' }, include: { description: 'packages', pattern: '[a-z0-9.+-]+(,[a-z0-9.+-]+)*' } }, timeoutMinutes: 30 });
});
afterEach(() => rm(base, { recursive: true, force: true }));

describe('TemplateStore', () => {
  it('lists recipes not built yet', async () => {
    const store = new TemplateStore(paths, new RecordingRunner(), { sourcesDir: sources });
    const list = await store.list();
    expect(list.map((t) => [t.name, t.status, t.built, t.autoBuild])).toEqual([
      ['busybox', 'recipe', false, true],
      ['debian', 'recipe', false, false],
    ]);
  });

  it('builds an autoBuild recipe on first use into layers/0 with a versioned record', async () => {
    const runner = new RecordingRunner(fakeBuild);
    const store = new TemplateStore(paths, runner, { sourcesDir: sources });
    const progress: string[] = [];
    const t = await store.ensureBuilt('busybox', (m) => progress.push(m));
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]!.args[0]).toBe(join(sources, 'busybox', 'build'));
    expect(runner.calls[0]!.args[1]).toMatch(new RegExp(`^${tdir}/busybox\\.tmp-[0-9a-f]+/layers/0$`));
    expect(t).toMatchObject({ name: 'busybox', status: 'ready', built: true, path: join(tdir, 'busybox/layers/0'), parent: null });
    expect(t.defaults).toEqual({ command: ['sh'], entrypoint: [], env: ['PATH=/bin'], workdir: '', user: '', stopSignal: '' });
    expect(t.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(t.ownSizeBytes).toBe(t.sizeBytes);
    expect(t.sharedSizeBytes).toBe(0);
    const rec = JSON.parse(await readFile(join(tdir, 'busybox/template.json'), 'utf8'));
    expect(rec).toMatchObject({ version: 1, name: 'busybox', source: { kind: 'recipe', recipe: 'busybox', args: {} }, layers: [{ path: 'busybox/layers/0' }] });
    expect(await readdir(tdir)).toEqual(['busybox']);
    // Modes stay as built: the rootfs is read-only by being an overlay lower layer only.
    expect((await stat(join(t.path, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(progress[0]).toBe('building template busybox from recipe busybox');
    expect(progress).toContain(`built into ${runner.calls[0]!.args[1]}`);
    expect(progress.at(-1)).toMatch(/^template busybox built in \d+\.\ds$/);
  });

  it('builds once for concurrent callers and resolves every layer and default', async () => {
    const runner = new RecordingRunner(fakeBuild);
    const store = new TemplateStore(paths, runner, { sourcesDir: sources });
    const got = await Promise.all([store.ensureBuilt('busybox'), store.ensureBuilt('busybox'), store.resolve('busybox')]);
    expect(runner.calls).toHaveLength(1);
    expect(got[2]).toEqual({ rootfs: got[0]!.path, layers: [got[0]!.path], env: ['PATH=/bin'], command: ['sh'], entrypoint: [], workdir: '', user: '', stopSignal: '' });
    await new TemplateStore(paths, runner, { sourcesDir: sources }).ensureBuilt('busybox');
    expect(runner.calls).toHaveLength(1);
  });

  it('does not build a recipe that is not autoBuild on first use, and says how', async () => {
    const store = new TemplateStore(paths, new RecordingRunner(fakeBuild), { sourcesDir: sources });
    const err = await store.resolve('debian').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe('template "debian" is not built yet: corral template build debian');
  });

  it('builds a recipe with checked options passed as CORRAL_OPT_*, under another name, and refuses an existing name', async () => {
    const seen: Record<string, string>[] = [];
    const runner = new RecordingRunner(fakeBuild);
    const orig = runner.run.bind(runner);
    runner.run = (f, a, o) => {
      seen.push(o?.env ?? {});
      return orig(f, a, o);
    };
    const store = new TemplateStore(paths, runner, { sourcesDir: sources });
    const t = await store.build({ recipe: 'debian', name: 'web', args: { include: 'nginx-light,curl' } });
    expect(t).toMatchObject({ name: 'web', source: { kind: 'recipe', recipe: 'debian', args: { suite: 'bookworm', include: 'nginx-light,curl' } } });
    expect(seen[0]).toMatchObject({ CORRAL_OPT_SUITE: 'bookworm', CORRAL_OPT_INCLUDE: 'nginx-light,curl', CORRAL_CACHE_DIR: join(paths.dataRoot, 'cache/debian') });
    await expect(store.build({ recipe: 'debian', name: 'web' })).rejects.toThrow(/template web exists: remove it first/);
    await expect(store.build({ recipe: 'debian', args: { include: 'x;rm -rf /' } })).rejects.toThrow(ValidationError);
    await expect(store.build({ recipe: 'debian', args: { mirror: 'x' } })).rejects.toThrow('recipe debian has no option "mirror" (it has: suite, include)');
    await expect(store.build({ recipe: 'alpine' })).rejects.toThrow('no recipe "alpine" (recipes: busybox, debian)');
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
    expect(await readdir(tdir)).toEqual([]);
    expect((await store.get('busybox')).status).toBe('recipe');
    fail = false;
    expect((await store.ensureBuilt('busybox')).built).toBe(true);
  });

  it('removes leftovers of builds and removals cut short at first use', async () => {
    await mkdir(join(tdir, 'busybox.tmp-dead/layers/0/bin'), { recursive: true });
    await mkdir(join(tdir, '.trash-x-1234/layers'), { recursive: true });
    const store = new TemplateStore(paths, new RecordingRunner(fakeBuild), { sourcesDir: sources });
    await store.ensureBuilt('busybox');
    expect(await readdir(tdir)).toEqual(['busybox']);
  });

  it('finds a template placed by hand with a record, and lists a directory without one as invalid', async () => {
    await mkdir(join(tdir, 'mine/layers/0/etc'), { recursive: true });
    await writeFile(join(tdir, 'mine/layers/0/etc/os-release'), 'ID=mine\n');
    await writeFile(
      join(tdir, 'mine/template.json'),
      JSON.stringify({ version: 1, name: 'mine', description: 'by hand', source: { kind: 'archive', format: 'rootfs-tar', file: 'mine.tar', digest: 'sha256:1' }, digest: 'sha256:2', parent: null, createdAt: '2026-01-01T00:00:00Z', layers: [{ path: 'mine/layers/0', digest: 'sha256:1', sizeBytes: 4096 }], defaults: { command: ['bash'] } }),
    );
    await mkdir(join(tdir, 'loose/bin'), { recursive: true });
    await mkdir(join(tdir, 'broken/layers/0'), { recursive: true });
    await writeFile(join(tdir, 'broken/template.json'), '{"version": 1, "name": "broken"');
    await mkdir(join(tdir, 'future'), { recursive: true });
    await writeFile(join(tdir, 'future/template.json'), '{"version": 9, "name": "future"}');
    const store = new TemplateStore(paths, new RecordingRunner(), { sourcesDir: sources });
    const list = await store.list();
    const by = Object.fromEntries(list.map((t) => [t.name, t]));
    expect(by.mine).toMatchObject({ status: 'ready', description: 'by hand', defaults: { command: ['bash'], env: [], workdir: '' } });
    expect(by.loose).toMatchObject({ status: 'invalid', problem: 'no template.json record (a directory placed here needs one; see docs/templates.md)' });
    expect(by.broken!.problem).toMatch(/^template.json cannot be read: /);
    expect(by.future!.problem).toBe('template.json was written by a newer Corral (version 9; this one reads up to 1)');
    expect((await store.resolve('mine')).command).toEqual(['bash']);
    await expect(store.resolve('loose')).rejects.toThrow(InvalidStateError);
    // Invalid ones can be removed; the newer record is never rewritten.
    await store.remove('loose');
    expect(await exists(join(tdir, 'loose'))).toBe(false);
    expect(await readFile(join(tdir, 'future/template.json'), 'utf8')).toBe('{"version": 9, "name": "future"}');
  });

  it('migrates the old layout (rootfs + meta.json) on read and keeps its directory in place', async () => {
    await mkdir(join(tdir, 'busybox/rootfs/bin'), { recursive: true });
    await writeFile(join(tdir, 'busybox/rootfs/bin/busybox'), 'x'.repeat(100));
    await writeFile(join(tdir, 'busybox/meta.json'), JSON.stringify({ name: 'busybox', builtAt: '2026-01-02T03:04:05.000Z', sizeBytes: 100, buildScript: '/x/build' }));
    const runner = new RecordingRunner(fakeBuild);
    const store = new TemplateStore(paths, runner, { sourcesDir: sources });
    const r = await store.resolve('busybox');
    expect(runner.calls).toHaveLength(0);
    expect(r).toMatchObject({ rootfs: join(tdir, 'busybox/rootfs'), layers: [join(tdir, 'busybox/rootfs')], command: ['sh'], env: ['PATH=/bin'] });
    const rec = JSON.parse(await readFile(join(tdir, 'busybox/template.json'), 'utf8'));
    expect(rec).toMatchObject({ version: 1, name: 'busybox', createdAt: '2026-01-02T03:04:05.000Z', parent: null, source: { kind: 'recipe', recipe: 'busybox' }, layers: [{ path: 'busybox/rootfs' }] });
    expect(rec.layers[0].digest).toMatch(/^sha256:/);
    expect((await store.get('busybox')).status).toBe('ready');
  });

  it('stacks a child on its parent layers: shared size, children, and rm refused with names', async () => {
    const store = new TemplateStore(paths, new RecordingRunner(), { sourcesDir: sources });
    const base1 = await store.add('base', new FileSource('a'));
    await store.add('child', new FileSource('b', base1.layers, 'base'));
    const usage = async () => [{ id: 'c1', name: 'web1', template: 'base' }, { id: 'c2', name: 'web2', template: 'base' }];
    const child = await store.get('child', usage);
    expect(child.layers.map((l) => [l.owner, l.path])).toEqual([['child', join(tdir, 'child/layers/1')], ['base', join(tdir, 'base/layers/0')]]);
    expect(child.sharedSizeBytes).toBe(base1.layers[0]!.sizeBytes);
    expect(child.ownSizeBytes! + child.sharedSizeBytes!).toBe(child.sizeBytes);
    expect((await store.resolve('child')).layers).toEqual([join(tdir, 'child/layers/1'), join(tdir, 'base/layers/0')]);
    const parent = await store.get('base', usage);
    expect(parent.children).toEqual(['child']);
    expect(parent.containers.map((c) => c.name)).toEqual(['web1', 'web2']);
    const err = await store.remove('base', usage).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toBe('template base is in use by containers web1, web2 and template child: remove them first');
    await expect(store.remove('base')).rejects.toThrow('template base is in use by template child: remove it first');
    expect(await store.prune(usage, true)).toEqual(['child']);
    expect(await store.prune(async () => [], true)).toEqual(['base', 'child']);
    expect(await store.prune(usage)).toEqual(['child']);
    await store.remove('base');
    expect(await readdir(tdir)).toEqual([]);
    await expect(store.resolve('base')).rejects.toThrow(NotFoundError);
  });

  it('refuses a child whose parent layer vanished before it was put in place', async () => {
    const store = new TemplateStore(paths, new RecordingRunner(), { sourcesDir: sources });
    const b = await store.add('base', new FileSource('a'));
    await rm(join(tdir, 'base'), { recursive: true });
    await expect(store.add('child', new FileSource('b', b.layers, 'base'))).rejects.toThrow('make template child: layer base/layers/0 of base is gone');
    expect(await readdir(tdir)).toEqual([]);
  });

  it('names what exists and how to get a template it does not know; refuses path-like names', async () => {
    const store = new TemplateStore(paths, new RecordingRunner(fakeBuild), { sourcesDir: sources });
    const err = await store.resolve('alpine').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe(
      'template "alpine" not found (available: busybox, debian); make one with corral template build RECIPE --name alpine, corral template load -i FILE --name alpine or corral commit CONTAINER alpine',
    );
    await expect(store.get('../busybox')).rejects.toThrow(ValidationError);
    await expect(store.ensureBuilt('a/b')).rejects.toThrow(ValidationError);
    await expect(store.add('x.tmp-1', new FileSource('a'))).rejects.toThrow(ValidationError);
  });

  it('streams a real build script output and passes options', async () => {
    await addRecipe('tiny', { options: { word: { description: 'w', default: 'hi', pattern: '[a-z]+' } } }, '#!/bin/sh\nset -eu\nmkdir -p "$1/bin" "$1/etc"\necho root:x:0:0::/root:/bin/sh > "$1/etc/passwd"\necho "tiny says $CORRAL_OPT_WORD" >&2\necho "tiny done"\n');
    const store = new TemplateStore(paths, new ExecaRunner(), { sourcesDir: sources });
    const progress: string[] = [];
    const t = await store.build({ recipe: 'tiny' }, (m) => progress.push(m));
    expect(await readFile(join(t.path, 'etc/passwd'), 'utf8')).toBe('root:x:0:0::/root:/bin/sh\n');
    expect(progress).toContain('tiny done');
    expect(progress).toContain('tiny says hi');
  });

  it('an aborted build leaves no template', async () => {
    await addRecipe('slow', {}, '#!/bin/sh\nmkdir -p "$1"\necho started\nexec sleep 600\n');
    const store = new TemplateStore(paths, new ExecaRunner(), { sourcesDir: sources });
    const abort = new AbortController();
    const p = store.build({ recipe: 'slow' }, (m) => {
      if (m === 'started') abort.abort();
    }, abort.signal);
    await expect(p).rejects.toThrow('build template slow: interrupted');
    expect(await readdir(tdir)).toEqual([]);
  });

  it('finds the packaged recipes by default', async () => {
    const store = new TemplateStore(paths, new RecordingRunner());
    const names = (await store.list()).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['busybox', 'debian']));
    expect((await store.get('busybox')).defaults?.command).toEqual(['sh']);
    expect((await store.get('busybox')).autoBuild).toBe(true);
  });
});
