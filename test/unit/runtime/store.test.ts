import { CONFIG_VERSION } from '../../../src/runtime/config-version.js';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../src/config.js';
import { configFromRequest } from '../../../src/runtime/spec.js';
import { ContainerStore } from '../../../src/runtime/store.js';

describe('ContainerStore', () => {
  const root = mkdtempSync(join(tmpdir(), 'corral-store-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const store = new ContainerStore(resolvePaths({ dataRoot: join(root, 'data'), runRoot: join(root, 'run') }, {}));

  it('lays out a container and commits it with config.json', async () => {
    const c = configFromRequest({ template: 'busybox', name: 'a' });
    await store.prepare(c);
    // The marker says the create has not committed yet.
    expect(readdirSync(store.dir(c.id)).sort()).toEqual(['.creating', 'rootfs', 'upper', 'work']);
    expect(await store.readConfig(c.id)).toBeUndefined();
    expect(await store.readStored(c.id)).toEqual({ kind: 'uncommitted' });
    await store.commit(c);
    expect(readdirSync(store.dir(c.id)).sort()).toEqual(['config.json', 'rootfs', 'upper', 'work']);
    expect(await store.readConfig(c.id)).toEqual(c);
    expect(JSON.parse(readFileSync(store.file(c.id, 'config.json'), 'utf8')).version).toBe(CONFIG_VERSION);
    expect(await store.listIds()).toContain(c.id);
  });

  it('reads the monitor records and forgets them before a new run', async () => {
    const c = configFromRequest({ template: 'busybox', name: 'b' });
    await store.prepare(c);
    writeFileSync(store.file(c.id, 'runtime.json'), JSON.stringify({ monitorPid: 1, monitorStartTime: 2, pid: 3, pidStartTime: 4, startedAt: 'x' }));
    writeFileSync(store.file(c.id, 'exit.json'), JSON.stringify({ pid: 3, exitCode: 0, signal: null, finishedAt: 'y', error: null }));
    expect((await store.readRuntime(c.id))?.pid).toBe(3);
    expect((await store.readExit(c.id))?.exitCode).toBe(0);
    await store.clearRun(c.id);
    expect(await store.readRuntime(c.id)).toBeUndefined();
    expect(await store.readExit(c.id)).toBeUndefined();
  });

  it('names the file when a record is corrupt', async () => {
    const c = configFromRequest({ template: 'busybox', name: 'c' });
    await store.prepare(c);
    writeFileSync(store.file(c.id, 'exit.json'), '{torn');
    await expect(store.readExit(c.id)).rejects.toThrow(`parse ${store.file(c.id, 'exit.json')}`);
  });

  it('destroys through a trash rename, idempotently', async () => {
    const c = configFromRequest({ template: 'busybox', name: 'd' });
    await store.prepare(c);
    await store.writeConfig(c);
    await store.destroy(c.id);
    await store.destroy(c.id);
    expect(existsSync(store.dir(c.id))).toBe(false);
    expect(await store.listTrash()).toEqual([]);
    expect(await store.listIds()).not.toContain(c.id);
  });
});
