import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { DAEMON, ROOT, corralWith, waitForSocket, type TestInstallation } from '../support/installation.js';

/**
 * Helpers for vm tests that run a corrald of their own inside the VM (test/support/corral.ts needs
 * the integration tier's global setup). Everything lives on the tmpfs at $CORRAL_VM_STATE.
 */
export const CGROUP_ROOT = '/sys/fs/cgroup';

export function vmState(): string {
  const state = process.env.CORRAL_VM_STATE;
  if (!state) throw new Error('CORRAL_VM_STATE is not set: run this inside the VM (scripts/vm-test)');
  return state;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Give an installation the busybox template without corrald building it: the build script run by
 * dash forks and execs coreutils (dynamically linked, read over 9p) ~1000 times, 50-130 s under
 * TCG; run by busybox's own shell its applets need no exec and it takes ~6 s. The same script,
 * once per VM boot, kept on the tmpfs and copied into each data root with the meta.json a corrald
 * build writes, so the store sees it as built.
 */
export async function seedTemplate(dataRoot: string): Promise<void> {
  const cache = join(vmState(), 'template-cache', 'busybox');
  if (!existsSync(join(cache, 'meta.json'))) {
    const tmp = `${cache}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true, mode: 0o755 });
    const script = join(ROOT, 'rootfs-templates', 'busybox', 'build');
    await execa('busybox', ['sh', script, join(tmp, 'rootfs')], { stdin: 'ignore' });
    const meta = { name: 'busybox', builtAt: new Date().toISOString(), sizeBytes: await treeSize(join(tmp, 'rootfs')), buildScript: script };
    await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2) + '\n', { mode: 0o444 });
    await rename(tmp, cache);
  }
  await mkdir(dataRoot, { recursive: true, mode: 0o700 });
  await mkdir(join(dataRoot, 'templates'), { mode: 0o755 });
  await execa('cp', ['-a', cache, join(dataRoot, 'templates', 'busybox')]);
}

async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeSize(p);
    else total += (await lstat(p)).size;
  }
  return total;
}

export interface Corrald {
  child: ChildProcess;
  /** corrald's pid (the spawned process is corrald, or becomes it by exec). */
  pid: number;
  /** Its stderr (the cgroup driver's warnings go there). */
  stderrFile: string;
  stderr(): string;
}

/**
 * Start a corrald (or `argv`, a command that ends by exec'ing one) and wait for its socket. The VM
 * is slow: corrald takes ~5 s to listen.
 */
export async function startCorrald(inst: TestInstallation, argv?: string[], timeoutMs = 90_000): Promise<Corrald> {
  await mkdir(inst.runRoot, { recursive: true, mode: 0o700 });
  const stderrFile = join(inst.runRoot, '..', `corrald-${process.pid}.stderr`);
  const fd = openSync(stderrFile, 'w');
  const cmd = argv ?? [process.execPath, DAEMON, '--data-root', inst.dataRoot, '--run-root', inst.runRoot, '--cgroup-parent', inst.cgroupParent, '--log-level', 'debug'];
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  const d: Corrald = { child, pid: child.pid!, stderrFile, stderr: () => readFileSync(stderrFile, 'utf8') };
  try {
    await waitForSocket(inst, child, timeoutMs);
  } catch (err) {
    await stopPid(d.pid, 'SIGTERM').catch(() => {});
    const log = (() => {
      try {
        return readFileSync(join(inst.runRoot, 'corrald.log'), 'utf8').split('\n').slice(-30).join('\n');
      } catch {
        return '(no corrald.log)';
      }
    })();
    throw new Error(`${(err as Error).message}\ncorrald stderr:\n${d.stderr()}\ncorrald.log (last lines):\n${log}`);
  }
  return d;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Signal one pid we started and wait up to `ms` for it to be gone (SIGKILL after that). */
export async function stopPid(pid: number, signal: NodeJS.Signals, ms = 20_000): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(50);
    throw new Error(`pid ${pid} ignored ${signal} for ${ms} ms: killed`);
  }
}

/**
 * The teardown every vm test with a corrald needs: remove every container, SIGTERM corrald by its
 * pid, then run `more` (other pids, cgroups); problems are collected and thrown at the end, after
 * everything was tried.
 */
export async function teardown(inst: TestInstallation, d: Corrald | undefined, more: Array<() => Promise<void>> = []): Promise<void> {
  const problems: string[] = [];
  const attempt = async (what: string, f: () => Promise<void>): Promise<void> => {
    try {
      await f();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  if (d && alive(d.pid)) {
    await attempt('remove containers', async () => {
      const ids = (await corralWith(inst, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length === 0) return;
      const r = await corralWith(inst, ['rm', '-f', ...ids], { timeoutMs: 120_000 });
      if (r.exitCode !== 0) throw new Error(r.stderr);
    });
    await attempt('stop corrald', () => stopPid(d.pid, 'SIGTERM'));
  }
  for (const f of more) await attempt('cleanup', f);
  if (problems.length > 0) throw new Error(`teardown: ${problems.join('; ')}`);
}

/** rmdir a cgroup that should be empty by now; a missing one is fine. */
export async function rmdirCgroup(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // Tasks that just exited can hold a cgroup briefly.
      if (code !== 'EBUSY' || i >= 40) throw err;
      await sleep(50);
    }
  }
}

/** CPUs' worth of time a cgroup used over `ms` of wall time, from cpu.stat usage_usec. */
export async function cpuShare(dir: string, ms: number): Promise<number> {
  const read = (): number => Number(/usage_usec (\d+)/.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'))![1]) / 1e6;
  const a = read();
  const t0 = process.hrtime.bigint();
  await sleep(ms);
  const b = read();
  return (b - a) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/**
 * An ext4 filesystem (a sparse image, loop-mounted) at `dir`: the VM's own state is a tmpfs, which
 * Debian 12's 6.1 kernel cannot idmap (tmpfs learned it in 6.3), while ext4 can, with overlayfs over
 * the idmapped lower (5.19+). Data roots on it run containers in their own user namespace.
 */
export async function mountExt4(image: string, dir: string, size = '512M'): Promise<void> {
  await execa('modprobe', ['-a', 'loop', 'ext4']);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await execa('truncate', ['-s', size, image]);
  await execa('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
  // -o loop sets autoclear: the loop device goes with the unmount.
  await execa('mount', ['-o', 'loop', image, dir]);
  await rmdir(join(dir, 'lost+found'));
}

/** Undo mountExt4 (a missing mount is fine). */
export async function unmountExt4(image: string, dir: string): Promise<void> {
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
  if (mounted) await execa('umount', [dir]);
  await rm(image, { force: true });
}

export function words(file: string): string[] {
  return readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
}
