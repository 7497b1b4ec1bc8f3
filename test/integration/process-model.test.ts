import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, daemonPid, installation, uniqueName } from '../support/corral.js';

function status(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(/:\s+/) as [string, string]),
  );
}

describe('process model', () => {
  it('a running container costs one small monitor that is not Node, and outlives corrald', async () => {
    const name = uniqueName('mon');
    expect((await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    try {
      const rt = JSON.parse(readFileSync(join(installation().dataRoot, 'containers', JSON.parse((await corral(['inspect', name])).stdout)[0].id, 'runtime.json'), 'utf8'));
      const mon = status(rt.monitorPid);
      expect(mon.Name).not.toMatch(/node/);
      expect(readFileSync(`/proc/${rt.monitorPid}/cmdline`, 'utf8')).not.toMatch(/node/);
      const rssKiB = Number(mon.VmRSS!.replace(/ kB$/, ''));
      expect(rssKiB).toBeLessThanOrEqual(1024);
      // PID 1's parent is the monitor (a subreaper), not unshare and not Node.
      expect(Number(status(rt.pid).PPid)).toBe(rt.monitorPid);

      // kill -9 corrald: the container keeps running; the next CLI call starts a new corrald
      // which sees the container as running from the kernel.
      const old = daemonPid();
      process.kill(old!, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      process.kill(rt.pid, 0);
      process.kill(rt.monitorPid, 0);
      const ps = await corral(['ps', '--format', 'json']);
      expect(ps.exitCode).toBe(0);
      expect(daemonPid()).not.toBe(old);
      expect(JSON.parse(ps.stdout).find((c: { name: string }) => c.name === name)).toMatchObject({ status: 'running', pid: rt.pid });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
