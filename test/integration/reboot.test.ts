import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corral, daemonPid, inspect, installation, sleep, uniqueName } from '../support/corral.js';

function kill9(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

describe('a host reboot, simulated', () => {
  it('brings back always and unless-stopped containers when corrald starts; leaves no and stopped ones down', async () => {
    const always = uniqueName('boot-always');
    const unless = uniqueName('boot-unless');
    const stopped = uniqueName('boot-stopped');
    const plain = uniqueName('boot-no');
    await corral(['run', '-d', '--name', always, '--restart', 'always', 'busybox', 'sleep', '300']);
    await corral(['run', '-d', '--name', unless, '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
    await corral(['run', '-d', '--name', stopped, '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
    await corral(['run', '-d', '--name', plain, 'busybox', 'sleep', '300']);
    await corral(['stop', '-t', '0', stopped]);
    try {
      const inst = installation();
      const ids: string[] = [];
      for (const n of [always, unless, plain]) ids.push((await inspect(n)).id);
      // Power off: corrald, every monitor and every container process die at once (monitors
      // first, so nobody writes an exit record), and /run is wiped.
      kill9(daemonPid()!);
      const rts = ids.map((id) => JSON.parse(readFileSync(join(inst.dataRoot, 'containers', id, 'runtime.json'), 'utf8')));
      for (const rt of rts) kill9(rt.monitorPid);
      for (const rt of rts) kill9(rt.pid);
      await sleep(300);
      // A reboot also loses every mount (the network namespace files), interface and nft table.
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4])
        .filter((m): m is string => m !== undefined && m.startsWith(inst.runRoot + '/'))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) execFileSync('umount', ['-l', m]);
      execFileSync('nft', ['delete', 'table', 'inet', `${inst.bridgePrefix}0`]);
      execFileSync('ip', ['link', 'del', `${inst.bridgePrefix}0`]);
      for (const entry of readdirSync(inst.runRoot)) rmSync(join(inst.runRoot, entry), { recursive: true, force: true });
      // Leftover cgroups are what a reboot would clear too: the new corrald removes them itself.

      // Boot: the first command starts corrald.
      const ps = await corral(['ps', '-a', '--format', 'json']);
      expect(ps.exitCode).toBe(0);
      // Restarts happen during corrald's start-up or right after it: wait for them, however busy the host.
      const until = async (n: string): Promise<any> => {
        for (const end = Date.now() + 180_000; Date.now() < end; ) {
          const s = (await inspect(n)).state;
          if (s.status === 'running') return s;
          await sleep(100);
        }
        return (await inspect(n)).state;
      };
      expect((await until(always)).status).toBe('running');
      expect((await until(unless)).status).toBe('running');
      await sleep(1000);
      expect((await inspect(stopped)).state.status).toBe('exited');
      const p = (await inspect(plain)).state;
      expect(p.status).toBe('exited');
      expect(p.error).toMatch(/without an exit record/);
      expect(existsSync(join(inst.runRoot, 'corrald.sock'))).toBe(true);
      // The network came back with them: a bridge and an address each.
      const nets = JSON.parse((await corral(['ps', '--format', 'json'])).stdout).filter((c: any) => [always, unless].includes(c.name));
      expect(nets.map((c: any) => c.networks[0].ip)).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/), expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/)]);
    } finally {
      await corral(['rm', '-f', always, unless, stopped, plain]);
    }
  }, 300_000);
});
