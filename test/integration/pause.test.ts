import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName } from '../support/corral.js';

/** What the kernel says of the container's freezer: freezer.state (v1) or cgroup.events' frozen line (v2). */
async function freezerOf(name: string): Promise<string> {
  const cg = (await inspect(name)).cgroup as { driver: 'v1' | 'v2'; paths: string[] };
  if (cg.driver === 'v2') return readFileSync(join(cg.paths[0]!, 'cgroup.events'), 'utf8').match(/^frozen (\d)$/m)![0];
  const dir = cg.paths.find((p) => p.includes('/freezer/'));
  if (!dir) throw new Error(`no freezer cgroup in ${cg.paths.join(' ')}`);
  return readFileSync(join(dir, 'freezer.state'), 'utf8').trim();
}

async function psRow(name: string): Promise<{ status: string; statusText: string } | undefined> {
  const r = await corral(['ps', '--format', 'json']);
  return (JSON.parse(r.stdout) as { name: string; status: string; statusText: string }[]).find((c) => c.name === name);
}

describe('corral pause, unpause', () => {
  it('freezes every process, shows paused in ps and inspect, refuses exec, and thaws', async () => {
    const name = uniqueName('pause');
    await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'sleep 300 & while true; do sleep 1; done']);
    try {
      const pid = (await inspect(name)).state.pid;
      const p = await corral(['pause', name]);
      expect(p).toMatchObject({ exitCode: 0, stdout: `${name}\n` });
      expect(await freezerOf(name)).toMatch(/^(FROZEN|frozen 1)$/);
      expect((await inspect(name)).state).toMatchObject({ status: 'paused', pid });
      // Docker's ps lists paused containers without -a.
      expect(await psRow(name)).toMatchObject({ status: 'paused', statusText: expect.stringMatching(/^Up .* \(Paused\)$/) });
      const ex = await corral(['exec', name, 'true']);
      expect(ex.exitCode).toBe(125);
      expect(ex.stderr).toMatch(/cannot exec container .*: it is paused: unpause it first/);
      const again = await corral(['pause', name]);
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toMatch(/it is already paused/);

      expect((await corral(['unpause', name])).exitCode).toBe(0);
      expect(await freezerOf(name)).toMatch(/^(THAWED|frozen 0)$/);
      expect((await inspect(name)).state).toMatchObject({ status: 'running', pid });
      expect((await corral(['exec', name, 'echo', 'awake'])).stdout).toBe('awake\n');
      const notPaused = await corral(['unpause', name]);
      expect(notPaused.exitCode).toBe(1);
      expect(notPaused.stderr).toMatch(/it is not paused/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('stop of a paused container delivers SIGTERM (thawed after the signal, as Docker)', async () => {
    const name = uniqueName('pause-stop');
    await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'trap "exit 3" TERM; while true; do sleep 0.1; done']);
    try {
      expect((await corral(['pause', name])).exitCode).toBe(0);
      expect((await corral(['stop', '-t', '30', name])).exitCode).toBe(0);
      // Exit code 3: handled by the program's trap, not the SIGKILL 30 s later (137).
      expect((await inspect(name)).state).toMatchObject({ status: 'exited', exitCode: 3 });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('rm -f removes a paused container', async () => {
    const name = uniqueName('pause-rm');
    await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    expect((await corral(['pause', name])).exitCode).toBe(0);
    const rm = await corral(['rm', '-f', name]);
    expect(rm.exitCode).toBe(0);
    expect((await corral(['inspect', name])).exitCode).toBe(1);
  });

  it('refuses a container that is not running', async () => {
    const name = uniqueName('pause-created');
    await corral(['create', '--name', name, 'busybox', 'true']);
    try {
      const r = await corral(['pause', name]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/cannot pause container .*: it is not running/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
