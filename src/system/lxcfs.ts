import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorralPaths } from '../config.js';
import { CorralError, describe } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { readMountinfo } from './mountinfo.js';
import { isSameProcess, processStartTime } from './procfs.js';
import type { Runner } from './runner.js';
import { findProgram } from './which.js';

/**
 * LXCFS: a FUSE filesystem whose /proc and /sys files answer with the reading process's cgroup
 * limits. corrald runs one per installation (`<run-root>/lxcfs`) and binds these files over each
 * container's own; they are all lxcfs 5 serves that a container reads for its size.
 */
export const LXCFS_FILES = [
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/loadavg',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/sys/devices/system/cpu/online',
] as const;

export const FUSE_LXCFS = 'fuse.lxcfs';
export const lxcfsMountpoint = (p: CorralPaths): string => join(p.runRoot, 'lxcfs');
export const lxcfsPidFile = (p: CorralPaths): string => join(p.runRoot, 'lxcfs.pid');
export const lxcfsLogFile = (p: CorralPaths): string => join(p.runRoot, 'lxcfs.log');

/** A serving lxcfs: where, which connection (`dev` of its mount), and the files it has. */
export interface LxcfsMount {
  mountpoint: string;
  dev: string;
  files: string[];
  pid: number;
}

export interface LxcfsSupervisorOptions {
  /** The lxcfs program. */
  binary: string;
  paths: CorralPaths;
  /** For `umount -l` of a dead connection's mount. */
  runner: Runner;
  log: Logger;
  /** After a restart (not the first start): running containers still hold binds of the dead connection. */
  onRestart?: (m: LxcfsMount) => Promise<void>;
  /** How long a start may take before it counts as failed (a loaded host takes seconds). */
  startTimeoutMs?: number;
}

/** The dev of the lxcfs mount at `mountpoint` in our namespace, if one is there (the top one). */
export async function lxcfsDev(mountpoint: string): Promise<string | undefined> {
  const m = (await readMountinfo('self')).filter((e) => e.mountPoint === mountpoint && e.fsType === FUSE_LXCFS);
  return m.at(-1)?.dev;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts lxcfs (or adopts the one a previous corrald left for its containers), restarts it when it
 * dies, and stops it on request. lxcfs runs detached, so it outlives a corrald that stops or
 * crashes while containers read through it.
 */
export class LxcfsSupervisor {
  private current: LxcfsMount | undefined;
  private startTime = 0;
  private child: ChildProcess | undefined;
  private poll: NodeJS.Timeout | undefined;
  private restarting: Promise<LxcfsMount | undefined> | undefined;
  /** While restarting: settles when the new lxcfs is mounted (or the restart is given up). */
  private mounted: { promise: Promise<LxcfsMount | undefined>; resolve: (m: LxcfsMount | undefined) => void } | undefined;
  private stopped = false;
  private lastStart = 0;
  private failures = 0;
  readonly mountpoint: string;
  private readonly pidFile: string;

  constructor(private readonly o: LxcfsSupervisorOptions) {
    this.mountpoint = lxcfsMountpoint(o.paths);
    this.pidFile = lxcfsPidFile(o.paths);
  }

  set onRestart(fn: (m: LxcfsMount) => Promise<void>) {
    this.o.onRestart = fn;
  }

  /** Adopt a live lxcfs of this installation, or start one; resolves once it serves. */
  async start(): Promise<LxcfsMount> {
    const adopted = await this.adopt();
    const m = adopted ?? (await this.launch());
    this.watch();
    return m;
  }

  /**
   * The serving lxcfs; waits up to `waitMs` for a restart under way to mount the new one (not for
   * its rebinds, nor a crash loop's back-off). undefined: none, the container starts without binds.
   */
  async ready(waitMs = 5000): Promise<LxcfsMount | undefined> {
    if (this.current || !this.mounted) return this.current;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)));
    try {
      return await Promise.race([this.mounted.promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stop watching and leave lxcfs running (containers still read through it). */
  detach(): void {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    this.child?.removeAllListeners('exit');
    this.child?.unref();
  }

  /** Stop lxcfs and remove its mount and pid file; waits for the kernel to confirm. */
  async stop(): Promise<void> {
    this.detach();
    await this.restarting?.catch(() => undefined);
    const m = this.current;
    this.current = undefined;
    if (m) await this.kill(m.pid, this.startTime);
    await this.unmountStale();
    await rm(this.pidFile, { force: true });
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** A previous corrald's lxcfs, if it still serves this installation's mount point. */
  private async adopt(): Promise<LxcfsMount | undefined> {
    const pid = Number((await readFile(this.pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const start = await processStartTime(pid);
    if (!cmdline.split('\0').includes(this.mountpoint) || start === undefined) return undefined;
    const dev = await lxcfsDev(this.mountpoint);
    if (dev && (await this.serves())) {
      this.startTime = start;
      this.current = { mountpoint: this.mountpoint, dev, files: await this.files(), pid };
      this.o.log.info('lxcfs adopted', { pid, mountpoint: this.mountpoint, dev });
      return this.current;
    }
    // Ours, but not serving (its mount was detached): replace it.
    await this.kill(pid, start);
    return undefined;
  }

  private async serves(): Promise<boolean> {
    return stat(join(this.mountpoint, 'proc/meminfo')).then(
      () => true,
      () => false,
    );
  }

  /** The files this lxcfs has (an older one may lack some). */
  private async files(): Promise<string[]> {
    const have = await Promise.all(LXCFS_FILES.map((f) => stat(join(this.mountpoint, f)).then(() => f, () => undefined)));
    return have.filter((f): f is (typeof LXCFS_FILES)[number] => f !== undefined);
  }

  /** A dead lxcfs leaves its mount behind, answering ENOTCONN: detach it (and any stacked below). */
  private async unmountStale(): Promise<void> {
    for (let i = 0; i < 8 && (await lxcfsDev(this.mountpoint)); i++) {
      await this.o.runner.run('umount', ['-l', this.mountpoint], { allowFailure: true });
    }
  }

  private async launch(): Promise<LxcfsMount> {
    await this.unmountStale();
    await mkdir(this.mountpoint, { recursive: true, mode: 0o755 });
    await rm(this.pidFile, { force: true });
    this.lastStart = Date.now();
    const log = openSync(lxcfsLogFile(this.o.paths), 'a', 0o600);
    let child: ChildProcess;
    try {
      // -l: loadavg of the container; --enable-cfs: CPUs from the cfs quota, not only the cpuset.
      child = spawn(this.o.binary, ['-f', '-l', '--enable-cfs', '-p', this.pidFile, this.mountpoint], { detached: true, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exited with ${code}`));
      child.once('error', (err) => resolve(describe(err)));
    });
    let gone: string | undefined;
    void exited.then((why) => (gone = why));
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 30_000);
    for (;;) {
      const dev = await lxcfsDev(this.mountpoint);
      if (dev && (await this.serves())) {
        this.child = child;
        this.startTime = (await processStartTime(child.pid!)) ?? 0;
        this.current = { mountpoint: this.mountpoint, dev, files: await this.files(), pid: child.pid! };
        this.o.log.info('lxcfs started', { pid: child.pid, mountpoint: this.mountpoint, dev, files: this.current.files });
        return this.current;
      }
      if (gone !== undefined || Date.now() > deadline) {
        if (gone === undefined) child.kill('SIGKILL');
        await this.unmountStale();
        throw new CorralError('unavailable', `start lxcfs on ${this.mountpoint}: ${gone ?? 'it did not mount in time'}; see ${lxcfsLogFile(this.o.paths)}`);
      }
      await delay(20);
    }
  }

  /** Our child's exit is reported to us; an adopted lxcfs is checked once a second. */
  private watch(): void {
    if (this.stopped) return;
    if (this.child) {
      const child = this.child;
      child.once('exit', () => {
        if (this.child === child) void this.died();
      });
      child.unref();
      if (child.exitCode !== null || child.signalCode !== null) void this.died();
    } else {
      this.poll ??= setInterval(() => {
        const m = this.current;
        if (!m || this.restarting) return;
        void isSameProcess(m.pid, this.startTime).then((alive) => {
          if (!alive && this.current === m) void this.died();
        });
      }, 1000).unref();
    }
  }

  private died(): Promise<void> {
    if (this.stopped || this.restarting) return Promise.resolve();
    const dead = this.current;
    this.o.log.warn('lxcfs died; restarting it and rebinding its files in running containers', { pid: dead?.pid });
    this.current = undefined;
    this.child = undefined;
    let resolve!: (m: LxcfsMount | undefined) => void;
    const mounted = (this.mounted = { promise: new Promise<LxcfsMount | undefined>((r) => (resolve = r)), resolve });
    this.restarting = this.restart().finally(() => {
      this.restarting = undefined;
      this.mounted = undefined;
      mounted.resolve(this.current);
    });
    return this.restarting.then(() => undefined);
  }

  /** Restart with a back-off when it keeps dying (1 s doubling to 30 s; a run of a minute resets it). */
  private async restart(): Promise<LxcfsMount | undefined> {
    for (;;) {
      if (this.stopped) return undefined;
      this.failures = Date.now() - this.lastStart > 60_000 ? 0 : this.failures + 1;
      if (this.failures > 0) await delay(Math.min(30_000, 1000 * 2 ** (this.failures - 1)));
      if (this.stopped) return undefined;
      try {
        const m = await this.launch();
        this.mounted?.resolve(m);
        this.watch();
        await this.o.onRestart?.(m).catch((err: unknown) => this.o.log.warn('rebinding lxcfs files failed', { err: describe(err) }));
        return m;
      } catch (err) {
        this.o.log.error('lxcfs restart failed; containers started now see the host\'s /proc', { err: describe(err) });
      }
    }
  }

  /** SIGTERM (lxcfs unmounts itself), SIGKILL after 10 s; resolves when the kernel says it is gone. */
  private async kill(pid: number, startTime: number): Promise<void> {
    const signal = (s: NodeJS.Signals): void => {
      try {
        process.kill(pid, s);
      } catch {
        /* gone */
      }
    };
    if (!(await isSameProcess(pid, startTime))) return;
    signal('SIGTERM');
    const deadline = Date.now() + 10_000;
    let killed = false;
    while (await isSameProcess(pid, startTime)) {
      if (!killed && Date.now() > deadline) {
        signal('SIGKILL');
        killed = true;
      }
      await delay(20);
    }
  }
}

/** What `corral doctor` says about LXCFS: installed, serving this installation, or why not. */
export async function lxcfsCheck(paths: CorralPaths): Promise<{ name: string; status: 'ok' | 'warn'; detail: string; fix?: string }> {
  const name = 'lxcfs';
  const hostProc = "containers see the host's /proc/meminfo, cpuinfo, stat, uptime and loadavg (free, top and uptime show the host)";
  const binary = await findProgram('lxcfs').catch(() => undefined);
  if (!binary) return { name, status: 'warn', detail: `not installed: ${hostProc}`, fix: 'apt-get install lxcfs, then restart corrald' };
  // lxcfs 5 prints its version, quoted, on stderr.
  const version = await new Promise<string>((resolve) => execFile(binary, ['--version'], (err, out, errOut) => resolve(err ? '' : `${out}${errOut}`.trim().replace(/^"|"$/g, ''))));
  const what = `lxcfs${version ? ` ${version}` : ''}`;
  const mountpoint = lxcfsMountpoint(paths);
  const pid = Number((await readFile(lxcfsPidFile(paths), 'utf8').catch(() => '')).trim());
  if ((await lxcfsDev(mountpoint)) && (await stat(join(mountpoint, 'proc/meminfo')).then(() => true, () => false))) {
    return { name, status: 'ok', detail: `${what} serves ${mountpoint}${pid > 0 ? ` (pid ${pid})` : ''}: containers see their own memory, CPUs, uptime and load; sysinfo() (busybox free) still shows the host's` };
  }
  const [daemon, start] = (await readFile(join(paths.runRoot, 'corrald.pid'), 'utf8').catch(() => '')).trim().split(' ').map(Number);
  if (daemon && start !== undefined && (await isSameProcess(daemon, start))) {
    return { name, status: 'warn', detail: `${what} is installed, but corrald (pid ${daemon}) does not run it (--lxcfs off, or it failed to start): ${hostProc}`, fix: `see ${join(paths.runRoot, 'lxcfs.log')} and corrald's log; restart corrald without --lxcfs off` };
  }
  return { name, status: 'ok', detail: `${what} at ${binary}; corrald runs it at ${mountpoint} when it starts` };
}
