import { describe, expect, it } from 'vitest';
import { corral, inspect, uniqueName } from '../support/corral.js';

describe('corral top', () => {
  it("lists the container's processes with PID USER TIME CMD, host pids, nothing of the host", async () => {
    const name = uniqueName('top');
    await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'sleep 301 & exec sleep 302']);
    try {
      const info = await inspect(name);
      const pid1 = info.state.pid as number;
      // As `docker top`, the host's view: container root is its range's first host uid (no name).
      const hostRoot = info.config.userns?.mode === 'private' ? String(info.config.userns.uidBase) : 'root';
      const r = await corral(['top', name]);
      expect(r.exitCode).toBe(0);
      const [header, ...rows] = r.stdout.trimEnd().split('\n');
      expect(header!.split(/\s+/)).toEqual(['PID', 'USER', 'TIME', 'CMD']);
      const cmds = rows.map((l) => l.split(/\s{3,}/));
      expect(cmds.map((c) => c[3]).sort()).toEqual(['sleep 301', 'sleep 302']);
      expect(cmds.find((c) => c[3] === 'sleep 302')![0]).toBe(String(pid1));
      for (const c of cmds) {
        expect(c[1]).toBe(hostRoot);
        expect(c[2]).toMatch(/^\d\d:\d\d:\d\d$/);
      }
      const json = JSON.parse((await corral(['top', '--format', 'json', name])).stdout);
      expect(json.titles).toEqual(['PID', 'USER', 'TIME', 'CMD']);
      expect(json.processes).toHaveLength(2);
      // An exec'd process is in the container's cgroup too.
      const ex = corral(['exec', name, 'sleep', '303']);
      try {
        const seen = async (): Promise<boolean> => (await corral(['top', name])).stdout.includes('sleep 303');
        for (let i = 0; i < 100 && !(await seen()); i++) await new Promise((r) => setTimeout(r, 100));
        expect(await seen()).toBe(true);
      } finally {
        await corral(['rm', '-f', name]);
        await ex;
      }
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it("passes ps options to the host's ps and keeps only the container's rows", async () => {
    const name = uniqueName('top-ps');
    await corral(['run', '-d', '--name', name, 'busybox', 'sleep', '304']);
    try {
      const info = await inspect(name);
      const pid1 = info.state.pid as number;
      // As `docker top`, the host's view: container root is its range's first host uid (no name).
      const hostRoot = info.config.userns?.mode === 'private' ? String(info.config.userns.uidBase) : 'root';
      const r = await corral(['top', name, '-o', 'pid,comm,args']);
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]!.split(/\s+/)).toEqual(['PID', 'COMMAND', 'COMMAND']);
      expect(lines).toHaveLength(2);
      expect(lines[1]!.split(/\s+/)).toEqual([String(pid1), 'sleep', 'sleep', '304']);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('refuses a container that is not running', async () => {
    const name = uniqueName('top-created');
    await corral(['create', '--name', name, 'busybox', 'true']);
    try {
      const r = await corral(['top', name]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/it is not running/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
