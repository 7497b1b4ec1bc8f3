import { describe, expect, it } from 'vitest';
import { corral, daemonPid, inspect, sleep, uniqueName, until } from '../support/corral.js';

// The test corrald runs with the default back-off: delays 0.1 s, 0.2 s, 0.4 s … doubling.

describe('restart policies', () => {
  it('on-failure:2 restarts a failing container twice with back-off, then gives up', async () => {
    const name = uniqueName('onfail');
    await corral(['run', '-d', '--name', name, '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 3']);
    try {
      const final = await until('two restarts and a final exit', async () => {
        const i = await inspect(name);
        return i.state.restartCount === 2 && i.state.status === 'exited' ? i : undefined;
      });
      expect(final.state.exitCode).toBe(3);
      await sleep(1500);
      expect((await inspect(name)).state).toMatchObject({ status: 'exited', restartCount: 2 });
      expect((await corral(['logs', name])).stdout).toBe('run\nrun\nrun\n');
      const ev = (await corral(['events', '--since', '5m', '--until', '0s', '--filter', `container=${name}`, '--filter', 'type=restart', '--format', 'json'])).stdout;
      expect(ev.trim().split('\n')).toHaveLength(2);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('shows Restarting while it waits out the back-off, and stop cancels it', async () => {
    const name = uniqueName('crashloop');
    await corral(['run', '-d', '--name', name, '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    try {
      const seen = await until('a Restarting status', async () => {
        const ps = JSON.parse((await corral(['ps', '-a', '--format', 'json'])).stdout).find((c: any) => c.name === name);
        return ps?.status === 'restarting' ? ps : undefined;
      });
      expect(seen.statusText).toMatch(/^Restarting \(1\) /);
      expect((await corral(['stop', name])).exitCode).toBe(0);
      await sleep(8000); // longer than the back-offs of the first restarts
      const i = await inspect(name);
      expect(i.state.status).toBe('exited');
      const count = i.state.restartCount;
      await sleep(1000);
      expect((await inspect(name)).state.restartCount).toBe(count);
    } finally {
      await corral(['rm', '-f', name]);
    }
  }, 60_000);

  it('always restarts after a clean exit; unless-stopped stays down after stop', async () => {
    const a = uniqueName('always');
    const u = uniqueName('unless');
    await corral(['run', '-d', '--name', a, '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3']);
    await corral(['run', '-d', '--name', u, '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
    try {
      await until('a restart of the clean exit', async () => ((await inspect(a)).state.restartCount >= 1 ? true : undefined));
      await corral(['stop', '-t', '0', u]);
      await sleep(1500);
      expect((await inspect(u)).state).toMatchObject({ status: 'exited', restartCount: 0 });
    } finally {
      await corral(['rm', '-f', a, u]);
    }
  });

  it('corrald killed with -9 loses nothing: running containers stay, exits while it was down are collected and policies applied', async () => {
    const keep = uniqueName('keep');
    const dies = uniqueName('dies');
    const plain = uniqueName('plain');
    await corral(['run', '-d', '--name', keep, 'busybox', 'sleep', '300']);
    await corral(['run', '-d', '--name', dies, '--restart', 'on-failure', 'busybox', 'sh', '-c', 'sleep 1; exit 4']);
    await corral(['run', '-d', '--name', plain, 'busybox', 'sh', '-c', 'sleep 1; exit 5']);
    try {
      const keepPid = (await inspect(keep)).state.pid;
      process.kill(daemonPid()!, 'SIGKILL');
      await sleep(2500); // both short containers exit while corrald is down
      // The next command starts a new corrald, which re-adopts and collects.
      expect((await inspect(keep)).state).toMatchObject({ status: 'running', pid: keepPid });
      expect((await inspect(plain)).state).toMatchObject({ status: 'exited', exitCode: 5 });
      await until('the missed restart', async () => ((await inspect(dies)).state.restartCount >= 1 ? true : undefined));
      expect((await corral(['logs', plain])).exitCode).toBe(0);
    } finally {
      await corral(['rm', '-f', keep, dies, plain]);
    }
  });

  it('refuses a bad policy', async () => {
    const r = await corral(['run', '--rm', '--restart', 'sometimes', 'busybox', 'true']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/--restart "sometimes": expected no, on-failure\[:MAX\], always or unless-stopped/);
  });
});
