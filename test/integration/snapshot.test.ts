import { describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName, until } from '../support/corral.js';

describe('corral snapshot', () => {
  it('a snapshot of a running container (frozen for the copy) rolls a change back; restore stops and restarts it', async () => {
    const name = uniqueName('snap');
    expect((await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '3600'])).exitCode).toBe(0);
    try {
      expect((await corral(['exec', name, 'sh', '-c', 'echo before > /state'])).exitCode).toBe(0);
      const made = await corral(['snapshot', 'create', name, 'first']);
      expect(made.exitCode, made.stderr).toBe(0);
      expect(made.stdout).toBe('first\n');
      expect(made.stderr).toMatch(/^Snapshot first of .*: \d+ bytes, frozen for \d+ ms\n$/);
      // Running after the copy, not left frozen.
      expect((await corral(['exec', name, 'sh', '-c', 'echo after > /state; echo new > /added'])).exitCode).toBe(0);

      const ls = JSON.parse((await corral(['snapshot', 'ls', name, '--format', 'json'])).stdout);
      expect(ls).toHaveLength(1);
      expect(ls[0]).toMatchObject({ name: 'first' });
      expect(ls[0].frozenMs).toBeGreaterThan(0);
      expect((await corral(['snapshot', 'ls', name])).stdout).toMatch(/^NAME\s+CREATED\s+SIZE\s+FROZEN\nfirst\s/);
      const dup = await corral(['snapshot', 'create', name, 'first']);
      expect(dup.exitCode).not.toBe(0);
      expect(dup.stderr).toMatch(/snapshot first of .* exists/);

      const pid = (await inspect(name)).state.pid;
      const back = await corral(['snapshot', 'restore', name, 'first']);
      expect(back.exitCode, back.stderr).toBe(0);
      expect(back.stderr).toMatch(/stopped, rolled back and started again/);
      const s = (await inspect(name)).state;
      expect(s.status).toBe('running');
      expect(s.pid).not.toBe(pid);
      expect((await corral(['exec', name, 'cat', '/state'])).stdout).toBe('before\n');
      expect((await corral(['exec', name, 'sh', '-c', 'test -e /added || echo gone'])).stdout).toBe('gone\n');

      expect((await corral(['snapshot', 'rm', name, 'first'])).exitCode).toBe(0);
      expect(JSON.parse((await corral(['snapshot', 'ls', name, '--format', 'json'])).stdout)).toEqual([]);
      const missing = await corral(['snapshot', 'restore', name, 'first']);
      expect(missing.exitCode).not.toBe(0);
      expect(missing.stderr).toMatch(/no snapshot first of/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  }, 120_000);

  it('a stopped container: snapshot and restore without starting it', async () => {
    const name = uniqueName('snap-stopped');
    expect((await corral(['create', '--name', name, 'busybox', 'sh', '-c', 'cat /v'])).exitCode).toBe(0);
    try {
      const upper = (await inspect(name)).rootfs.upper;
      expect(upper).toBeTruthy();
      expect((await corral(['snapshot', 'create', name, 'empty'])).exitCode).toBe(0);
      // A change made by a run, then rolled back: the next run sees the snapshot's files.
      const r = await corral(['run', '--name', `${name}-w`, 'busybox', 'true']);
      expect(r.exitCode).toBe(0);
      await corral(['rm', `${name}-w`]);
      expect((await corral(['snapshot', 'restore', name, 'empty'])).stderr).toBe('');
      expect((await inspect(name)).state.status).toBe('created');
    } finally {
      await corral(['rm', '-f', name]);
    }
  }, 120_000);
});

describe('corral clone', () => {
  it('a clone runs beside its original: new id, name, hostname, address and id range, same files and template', async () => {
    const name = uniqueName('orig');
    const copy = `${name}-clone`;
    expect((await corral(['run', '-d', '--name', name, '--memory', '32m', 'busybox', 'sleep', '3600'])).exitCode).toBe(0);
    try {
      expect((await corral(['exec', name, 'sh', '-c', 'echo mine > /data'])).exitCode).toBe(0);
      const c = await corral(['clone', name, copy]);
      expect(c.exitCode, c.stderr).toBe(0);
      expect(c.stderr).toMatch(/was frozen for \d+ ms/);
      expect((await corral(['start', copy])).exitCode).toBe(0);
      const a = await inspect(name);
      const b = await inspect(copy);
      expect(b.id).not.toBe(a.id);
      expect(b.state.status).toBe('running');
      expect(a.state.status).toBe('running');
      expect(b.config.hostname).toBe(copy);
      expect(b.config.template).toBe(a.config.template);
      expect(b.config.limits).toEqual(a.config.limits);
      expect(b.config.userns.uidBase).not.toBe(a.config.userns.uidBase);
      const ipA = await until('an address', async () => (await inspect(name)).networkSettings.ipAddress ?? undefined);
      const ipB = await until('an address', async () => (await inspect(copy)).networkSettings.ipAddress ?? undefined);
      expect(ipB).not.toBe(ipA);
      expect((await corral(['exec', copy, 'cat', '/data'])).stdout).toBe('mine\n');
      expect((await corral(['exec', copy, 'hostname'])).stdout).toBe(`${copy}\n`);
      // Their files are their own.
      expect((await corral(['exec', copy, 'sh', '-c', 'echo theirs > /data'])).exitCode).toBe(0);
      expect((await corral(['exec', name, 'cat', '/data'])).stdout).toBe('mine\n');
    } finally {
      await corral(['rm', '-f', name, copy]);
    }
  }, 120_000);
});
