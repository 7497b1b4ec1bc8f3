import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetworkError } from '../../../src/errors.js';
import { NetnsStore } from '../../../src/network/netns.js';
import { ScriptRunner } from './support.js';

const ID = '3f9c1d2e4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff';
let runRoot: string;
beforeEach(() => {
  runRoot = mkdtempSync(join(tmpdir(), 'corral-netns-'));
});
afterEach(() => rmSync(runRoot, { recursive: true, force: true }));

/** A fake mount table: `mountpoint -q P` answers from it, mount/unshare/umount update it. */
function fakeMounts(initial: string[] = []): { runner: ScriptRunner; mounted: Set<string> } {
  const mounted = new Set(initial);
  const runner = new ScriptRunner((file, args) => {
    if (file === 'mountpoint') return { exitCode: mounted.has(args[1]!) ? 0 : 32 };
    if (file === 'mount' && args[0] === '--bind') mounted.add(args[2]!);
    if (file === 'unshare') mounted.add(args[0]!.slice('--net='.length));
    if (file === 'umount') mounted.delete(args[0]!);
    return {};
  });
  return { runner, mounted };
}

describe('NetnsStore', () => {
  it('makes the directory a private bind mount of itself once, then binds a new netns on <id12>', async () => {
    const { runner } = fakeMounts();
    const store = new NetnsStore(runRoot, runner);
    const dir = join(runRoot, 'netns');
    const file = await store.create(ID);
    expect(file).toBe(join(dir, '3f9c1d2e4b5a'));
    expect(runner.lines()).toEqual([
      `mountpoint -q ${dir}`,
      `mount --bind ${dir} ${dir}`,
      `mount --make-private ${dir}`,
      // no file yet: no need to ask whether it is a mount point
      `unshare --net=${file} true`,
    ]);
    expect(statSync(file).isFile()).toBe(true);
    // Idempotent: an existing namespace is found, not remade; the directory is not bound twice.
    const n = runner.calls.length;
    expect(await store.create(ID)).toBe(file);
    expect(runner.lines(n)).toEqual([`mountpoint -q ${file}`]);
    expect(await store.list()).toEqual(['3f9c1d2e4b5a']);
  });

  it('does not bind a directory that is already a mount point', async () => {
    const dir = join(runRoot, 'netns');
    const { runner } = fakeMounts([dir]);
    await new NetnsStore(runRoot, runner).create(ID);
    expect(runner.lines().filter((l) => l.startsWith('mount '))).toEqual([]);
  });

  it('removes with umount + unlink, idempotently', async () => {
    const { runner } = fakeMounts();
    const store = new NetnsStore(runRoot, runner);
    const file = await store.create(ID);
    const n = runner.calls.length;
    await store.remove(ID);
    await store.remove(ID);
    // One umount (no mountpoint check first); the second remove finds no file and runs nothing.
    expect(runner.lines(n)).toEqual([`umount ${file}`]);
    expect(existsSync(file)).toBe(false);
  });

  it('names the file in a failure and leaves no file behind', async () => {
    const runner = new ScriptRunner((file) => (file === 'unshare' ? { exitCode: 1, stderr: 'unshare: mount /proc/1/ns/net on /x failed: Permission denied' } : file === 'mountpoint' ? { exitCode: 32 } : {}));
    const store = new NetnsStore(runRoot, runner);
    const err = await store.create(ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toBe(`create network namespace ${store.path(ID)}: unshare: mount /proc/1/ns/net on /x failed: Permission denied`);
    expect(existsSync(store.path(ID))).toBe(false);
  });

  it('repair removes the namespaces of unknown containers; removeDir undoes the bind mount', async () => {
    const { runner, mounted } = fakeMounts();
    const store = new NetnsStore(runRoot, runner);
    await store.create(ID);
    await store.create('aaaaaaaaaaaa0000');
    expect(await store.repair([ID])).toEqual(['aaaaaaaaaaaa']);
    expect(await store.list()).toEqual(['3f9c1d2e4b5a']);
    await expect(store.removeDir()).rejects.toThrow(/network namespaces left: 3f9c1d2e4b5a/);
    await store.remove(ID);
    await store.removeDir();
    expect(mounted.size).toBe(0);
    expect(existsSync(store.dir)).toBe(false);
  });

  it('refuses ids that are not names', async () => {
    const store = new NetnsStore(runRoot, new ScriptRunner());
    expect(() => store.path('../etc')).toThrow(/not a container id/);
  });
});
