import { describe, expect, it } from 'vitest';
import { corral, inspect, until, uniqueName } from '../support/corral.js';

async function names(): Promise<string[]> {
  const r = await corral(['ps', '-a', '--format', 'json']);
  return (JSON.parse(r.stdout) as { name: string }[]).map((c) => c.name);
}

describe('corral rename', () => {
  it('renames a stopped container; the old name is free again', async () => {
    const name = uniqueName('ren');
    const id = (await corral(['create', '--name', name, 'busybox', 'true'])).stdout.trim();
    const renamed = `${name}-new`;
    try {
      const r = await corral(['rename', name, renamed]);
      expect(r).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect(await names()).toContain(renamed);
      expect(await names()).not.toContain(name);
      expect((await inspect(renamed)).id).toBe(id);
      const old = await corral(['inspect', name]);
      expect(old.exitCode).toBe(1);
      expect(old.stderr).toMatch(/no such container/);
      // By id prefix, and back to the first name.
      expect((await corral(['rename', id.slice(0, 12), name])).exitCode).toBe(0);
      expect((await inspect(name)).id).toBe(id);
      // It still starts under its name.
      expect((await corral(['start', name])).exitCode).toBe(0);
      expect((await corral(['wait', name])).stdout).toBe('0\n');
    } finally {
      await corral(['rm', '-f', name, renamed]);
    }
  });

  it('refuses a name in use, an invalid name and the same name, changing nothing', async () => {
    const a = uniqueName('ren-a');
    const b = uniqueName('ren-b');
    await corral(['create', '--name', a, 'busybox', 'true']);
    await corral(['create', '--name', b, 'busybox', 'true']);
    try {
      const taken = await corral(['rename', a, b]);
      expect(taken.exitCode).toBe(1);
      expect(taken.stderr).toMatch(new RegExp(`^corral: container name "${b}" is already in use by [0-9a-f]{12}\\n$`));
      const bad = await corral(['rename', a, 'no/slashes']);
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toMatch(/invalid container name "no\/slashes": use 1-63 characters/);
      const same = await corral(['rename', a, a]);
      expect(same.exitCode).toBe(1);
      expect(same.stderr).toMatch(/already has that name/);
      const missing = await corral(['rename', `${a}-nope`, `${a}-x`]);
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toMatch(/no such container/);
      expect(await names()).toEqual(expect.arrayContaining([a, b]));
      expect(await names()).not.toContain(`${a}-x`);
    } finally {
      await corral(['rm', '-f', a, b]);
    }
  });

  it('renames a running container in place; peers reach it by its new name', async () => {
    const web = uniqueName('ren-web');
    const peer = uniqueName('ren-peer');
    await corral(['run', '-d', '--name', web, 'busybox', 'sleep', '300']);
    await corral(['run', '-d', '--name', peer, 'busybox', 'sleep', '300']);
    const renamed = `${web}-2`;
    try {
      const pid = (await inspect(web)).state.pid;
      expect((await corral(['rename', web, renamed])).exitCode).toBe(0);
      expect((await inspect(renamed)).state).toMatchObject({ status: 'running', pid });
      const hostsOfPeer = () => corral(['exec', peer, 'cat', '/etc/hosts']).then((r) => r.stdout);
      await until('the peer to know the new name', async () => ((await hostsOfPeer()).includes(renamed) ? true : undefined));
      expect(await hostsOfPeer()).not.toMatch(new RegExp(`\\s${web}(\\s|$)`, 'm'));
      const ping = await corral(['exec', peer, 'ping', '-c', '1', '-W', '5', renamed]);
      expect(ping.exitCode).toBe(0);
      // It stops and is removed under its new name.
      expect((await corral(['stop', '-t', '1', renamed])).exitCode).toBe(0);
    } finally {
      await corral(['rm', '-f', web, renamed, peer]);
    }
  });

  it('is recorded as a rename event with the old name', async () => {
    const name = uniqueName('ren-ev');
    await corral(['create', '--name', name, 'busybox', 'true']);
    try {
      expect((await corral(['rename', name, `${name}-b`])).exitCode).toBe(0);
      const ev = await corral(['events', '--since', '5m', '--until', '0s', '--format', 'json', '-f', 'type=rename', '-f', `container=${name}-b`]);
      const lines = ev.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ type: 'rename', attributes: { oldName: name } });
    } finally {
      await corral(['rm', '-f', name, `${name}-b`]);
    }
  });
});
