import { CONFIG_VERSION } from '../../../../src/runtime/config-version.js';
import { existsSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Containers } from '../../../../src/runtime/containers.js';
import { FakeHost } from './fake-host.js';

let host: FakeHost;
let containers: Containers;

beforeEach(async () => {
  host = new FakeHost();
  containers = host.containers();
  await containers.init();
});
afterEach(() => {
  containers.close();
  host.close();
  delete process.env.CORRAL_FAIL_AT;
});

const dirOf = (id: string): string => join(host.paths.dataRoot, 'containers', id);

async function restartDaemon(): Promise<void> {
  containers.close();
  containers = host.containers();
  await containers.init();
}

describe('recovery at corrald start', () => {
  it('quarantines a container whose config.json is unreadable instead of deleting it', async () => {
    const c = await containers.create({ template: 'busybox', name: 'precious' });
    writeFileSync(join(dirOf(c.id), 'upper', 'data'), 'kept');
    writeFileSync(join(dirOf(c.id), 'config.json'), readFileSync(join(dirOf(c.id), 'config.json'), 'utf8').replace('{', '['));
    await restartDaemon();
    expect(readFileSync(join(dirOf(c.id), 'upper', 'data'), 'utf8')).toBe('kept');
    const [row] = await containers.list(true);
    expect(row).toMatchObject({ id: c.id, status: 'broken' });
    expect(row!.statusText).toMatch(/^Broken: config\.json is not valid JSON/);
    // Not listed without -a, not startable, removable by id prefix.
    expect(await containers.list(false)).toEqual([]);
    await expect(containers.start(c.id.slice(0, 8))).rejects.toThrow(/no such container/);
    await containers.remove(c.id.slice(0, 8), false);
    expect(existsSync(dirOf(c.id))).toBe(false);
    expect(await containers.list(true)).toEqual([]);
  });

  it('quarantines a config written by a newer Corral, and one that lost its config but holds files', async () => {
    const a = await containers.create({ template: 'busybox', name: 'newer' });
    const b = await containers.create({ template: 'busybox', name: 'lost' });
    const cfg = JSON.parse(readFileSync(join(dirOf(a.id), 'config.json'), 'utf8'));
    expect(cfg.version).toBe(CONFIG_VERSION);
    writeFileSync(join(dirOf(a.id), 'config.json'), JSON.stringify({ ...cfg, version: 7 }));
    writeFileSync(join(dirOf(b.id), 'upper', 'f'), 'x');
    rmSync(join(dirOf(b.id), 'config.json'));
    await restartDaemon();
    const rows = await containers.list(true);
    expect(rows.map((r) => [r.id, r.statusText]).sort()).toEqual(
      [
        [a.id, `Broken: config.json was written by a newer Corral (version 7; this one reads up to ${CONFIG_VERSION})`],
        [b.id, 'Broken: config.json is missing'],
      ].sort(),
    );
  });

  it('removes a create that never reached its commit point (the marker is there)', async () => {
    const c = await containers.create({ template: 'busybox', name: 'half' });
    rmSync(join(dirOf(c.id), 'config.json'));
    writeFileSync(join(dirOf(c.id), '.creating'), '');
    writeFileSync(join(dirOf(c.id), 'upper', 'f'), 'x');
    await restartDaemon();
    expect(existsSync(dirOf(c.id))).toBe(false);
    expect(await containers.list(true)).toEqual([]);
  });

  it('migrates a config without a version (written before versions existed)', async () => {
    const c = await containers.create({ template: 'busybox', name: 'old' });
    const { version: _v, restartPolicy: _r, network: _n, healthcheck: _h, userns: _u, ...old } = JSON.parse(readFileSync(join(dirOf(c.id), 'config.json'), 'utf8'));
    writeFileSync(join(dirOf(c.id), 'config.json'), JSON.stringify(old));
    await restartDaemon();
    const i = await containers.inspect('old');
    expect(i.config.restartPolicy).toEqual({ name: 'no', maxRetries: null });
    expect(i.config.network.mode).toBe('none');
    expect(i.config.healthcheck).toBeNull();
    expect(i.config.userns).toEqual({ mode: 'host' });
  });

  it('gives a version 1 record (before user namespaces) the host user namespace: its upper layer is host root\'s', async () => {
    const c = await containers.create({ template: 'busybox', name: 'v1' });
    const { userns: _u, ...v1 } = JSON.parse(readFileSync(join(dirOf(c.id), 'config.json'), 'utf8'));
    writeFileSync(join(dirOf(c.id), 'config.json'), JSON.stringify({ ...v1, version: 1 }));
    await restartDaemon();
    expect((await containers.inspect('v1')).config.userns).toEqual({ mode: 'host' });
  });

  it('finishes a stop an earlier corrald recorded: SIGTERM again, SIGKILL when its grace time is over', async () => {
    const c = await containers.create({ template: 'busybox', name: 'stopping' });
    const s = await containers.start('stopping');
    writeFileSync(join(dirOf(c.id), 'stop.json'), JSON.stringify({ requestedAt: new Date().toISOString(), killAt: Date.now() + 50 }));
    await restartDaemon();
    expect((await containers.wait('stopping')).exitCode).toBe(137);
    expect(host.calls).toEqual(expect.arrayContaining([`signal ${s.pid} SIGTERM`, `signal ${s.pid} SIGKILL`]));
    expect(host.calls.indexOf(`signal ${s.pid} SIGTERM`)).toBeLessThan(host.calls.indexOf(`signal ${s.pid} SIGKILL`));
    expect(existsSync(join(dirOf(c.id), 'stop.json'))).toBe(false);
  });
});

describe('start', () => {
  it('a start that fails after the monitor launched the program kills it and releases the run', async () => {
    const c = await containers.create({ template: 'busybox', name: 'full-disk' });
    process.env.CORRAL_FAIL_AT = 'start:write-limits';
    await expect(containers.start('full-disk')).rejects.toThrow(/ENOSPC/);
    const id = c.id.slice(0, 4);
    const calls = host.calls.slice(host.calls.indexOf(`spawn ${id}`));
    // Killed through its cgroup first (the kernel's word: the monitor's exit), then released.
    expect(calls).toEqual([`spawn ${id}`, `cgroup.kill ${id} SIGKILL`, `cgroup.remove ${id}`]);
    const rt = JSON.parse(readFileSync(join(dirOf(c.id), 'runtime.json'), 'utf8'));
    expect(host.alive(rt.pid)).toBe(false);
    expect(host.alive(rt.monitorPid)).toBe(false);
    delete process.env.CORRAL_FAIL_AT;
    await containers.waitSettled(c.id);
    expect((await containers.state(c.id)).status).toBe('exited');
    // The next start runs one copy.
    expect((await containers.start('full-disk')).status).toBe('running');
  });

  it('a failed report releases the cgroup and surfaces the monitor message', async () => {
    await containers.create({ template: 'busybox', name: 'nosuch' });
    host.nextReport = 'failed';
    await expect(containers.start('nosuch')).rejects.toThrow('executable file not found');
    expect(host.calls.at(-1)).toMatch(/^cgroup\.remove /);
  });
});

describe('stop and remove wait on the kernel, not on a clock', () => {
  it('rm -f of a running container SIGKILLs PID 1 and removes it once it is gone', async () => {
    const c = await containers.create({ template: 'busybox', name: 'victim' });
    const s = await containers.start('victim');
    await containers.remove('victim', true);
    expect(host.calls).toContain(`signal ${s.pid} SIGKILL`);
    expect(existsSync(dirOf(c.id))).toBe(false);
  });

  it('rm -f waits for a process that takes its time to die, however long (no fixed deadline)', async () => {
    host.ignore = new Set(['SIGTERM', 'SIGKILL']); // dies only when the test says so
    const c = await containers.create({ template: 'busybox', name: 'slow' });
    const s = await containers.start('slow');
    let done = false;
    // A minute passes on the runtime's clock (any fixed wait would have given up by then).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    let outcome: unknown = 'pending';
    const removal = containers.remove('slow', true).then(() => (done = true), (err: unknown) => (outcome = err));
    try {
      // Fake time moves in steps while real I/O (the state reads) completes between them.
      const ioTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
      while (!host.calls.includes(`signal ${s.pid} SIGKILL`)) await ioTurn();
      for (let i = 0; i < 240; i++) {
        await vi.advanceTimersByTimeAsync(250);
        for (let j = 0; j < 5; j++) await ioTurn();
      }
    } finally {
      vi.useRealTimers();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(outcome).toBe('pending');
    expect(done).toBe(false);
    host.die(s.pid!, 137, 9);
    await removal;
    expect(done).toBe(true);
    expect(existsSync(dirOf(c.id))).toBe(false);
  });

  it('stop records the request before signalling and forgets it once the exit is handled', async () => {
    const c = await containers.create({ template: 'busybox', name: 'polite' });
    const s = await containers.start('polite');
    host.ignore = new Set();
    await containers.stop('polite', 10);
    expect(host.calls).toContain(`signal ${s.pid} SIGTERM`);
    expect(host.calls).not.toContain(`signal ${s.pid} SIGKILL`);
    expect((await containers.state(c.id)).exitCode).toBe(143);
    expect(existsSync(join(dirOf(c.id), 'stop.json'))).toBe(false);
  });

  it('an exit releases the run even when the cgroup is busy: stragglers are killed', async () => {
    const c = await containers.create({ template: 'busybox', name: 'straggler' });
    await containers.start('straggler');
    mkdirSync(join(host.paths.runRoot, 'exits'), { recursive: true });
    await containers.kill('straggler', 'SIGKILL');
    await containers.waitSettled(c.id);
    expect(host.calls.filter((x) => x.startsWith('cgroup.remove')).length).toBeGreaterThan(0);
    expect((await containers.state(c.id)).status).toBe('exited');
  });
});
