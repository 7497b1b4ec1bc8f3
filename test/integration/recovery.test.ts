import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON, ROOT, corral, daemonArgs, daemonPid, inspect, installation, sleep, stopDaemon, uniqueName, until, waitForSocket } from '../support/corral.js';

/** A corrald of this installation with extra environment (fail and crash points). */
async function daemonWith(env: Record<string, string>): Promise<{ exited: Promise<string | null> }> {
  await stopDaemon();
  const inst = installation();
  const child = spawn(process.execPath, [DAEMON, ...daemonArgs(inst)], {
    cwd: ROOT,
    env: { ...process.env, ...env, CORRAL_RESTART_BACKOFF_BASE: '200ms' },
    stdio: 'ignore',
  });
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  for (let i = 0; i < 100 && daemonPid() !== child.pid; i++) await sleep(50);
  await waitForSocket(inst, child);
  return { exited };
}

function containerDir(id: string): string {
  return join(installation().dataRoot, 'containers', id);
}

function cgroupDirs(id: string): string[] {
  return readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, installation().cgroupParent, id)).filter((p) => existsSync(p));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('recovery: what corrald finds at start is kept, finished or quarantined, never lost', () => {
  it.each([
    ['one corrupted byte', (text: string) => text.replace('{', '[')],
    ['a config from a newer Corral', (text: string) => JSON.stringify({ ...JSON.parse(text), version: 99 })],
  ])('a container whose config.json is unreadable (%s) is quarantined: listed as broken, files kept, rm removes it', async (_what, corrupt) => {
    const name = uniqueName('broken');
    expect((await corral(['run', '--name', name, 'busybox', 'sh', '-c', 'echo precious > /data'])).exitCode).toBe(0);
    const id = (await inspect(name)).id as string;
    const config = join(containerDir(id), 'config.json');
    await stopDaemon();
    writeFileSync(config, corrupt(readFileSync(config, 'utf8')));
    // The next command starts a new corrald, which must not delete the container.
    const ps = await corral(['ps', '-a', '--format', 'json']);
    expect(ps.exitCode).toBe(0);
    const row = (JSON.parse(ps.stdout) as { id: string; status: string; statusText: string }[]).find((r) => r.id === id);
    expect(row?.status).toBe('broken');
    expect(row?.statusText).toMatch(/^Broken: .*config\.json/);
    expect(readFileSync(join(containerDir(id), 'upper', 'data'), 'utf8')).toBe('precious\n');
    // Only removal is possible, and it works by id.
    expect((await corral(['start', id.slice(0, 12)])).exitCode).not.toBe(0);
    const rm = await corral(['rm', id.slice(0, 12)]);
    expect(rm.stderr).toBe('');
    expect(rm.exitCode).toBe(0);
    expect(existsSync(containerDir(id))).toBe(false);
    expect((await corral(['ps', '-aq'])).stdout).not.toContain(id.slice(0, 12));
  });

  it('a start that fails after the program was launched (limits.json on a full disk) leaves nothing running', async () => {
    const name = uniqueName('enospc');
    expect((await corral(['create', '--name', name, '--network', 'none', 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    const id = (await inspect(name)).id as string;
    await daemonWith({ CORRAL_FAIL_AT: 'start:write-limits' });
    const r = await corral(['start', name]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('ENOSPC');
    // Nothing of the run is left: no cgroup (so no process in one), no live PID 1 or monitor.
    await until('the failed run to be recorded as exited', async () => ((await inspect(name)).state.status === 'exited' ? true : undefined));
    expect(cgroupDirs(id)).toEqual([]);
    const rt = JSON.parse(readFileSync(join(containerDir(id), 'runtime.json'), 'utf8')) as { pid: number; monitorPid: number };
    expect(alive(rt.pid)).toBe(false);
    expect(alive(rt.monitorPid)).toBe(false);
    // With the disk back, the next start runs exactly one copy, and rm -f works.
    await stopDaemon();
    expect((await corral(['start', name])).exitCode).toBe(0);
    const s = await inspect(name);
    expect(s.state.status).toBe('running');
    const procs = cgroupDirs(id).map((d) => readFileSync(join(d, 'payload', 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean));
    expect(procs[0]).toEqual([String(s.state.pid)]);
    expect((await corral(['rm', '-f', name])).exitCode).toBe(0);
    expect(cgroupDirs(id)).toEqual([]);
  });

  it('a stop that corrald did not see through (it died right after recording it) is finished by the next corrald', async () => {
    const name = uniqueName('stop-resume');
    expect((await corral(['run', '-d', '--name', name, '--network', 'none', 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    const d = await daemonWith({ CORRAL_CRASH_AT: 'stop:requested' });
    await corral(['stop', '-t', '1', name]);
    expect(await d.exited).toBe('SIGKILL');
    // The container still runs (nothing was signalled); the next corrald finishes the stop.
    const w = await corral(['wait', name], { timeoutMs: 120_000 });
    expect(w.stdout.trim()).toBe('137');
    const s = await inspect(name);
    expect(s.state.status).toBe('exited');
    expect(existsSync(join(containerDir(s.id), 'stop.json'))).toBe(false);
    expect((await corral(['rm', name])).exitCode).toBe(0);
  });
});
