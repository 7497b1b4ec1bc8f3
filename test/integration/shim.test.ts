import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnMonitor } from '../../src/runtime/shim.js';
import { parseReport, RUN_LINE } from '../../src/runtime/shim-protocol.js';
import { processStartTimeSync } from '../../src/system/procfs.js';

/**
 * corral-shim on its own (docs/shim.md), without corrald: the monitor, init and exec stages are
 * driven directly against a busybox rootfs made here, with an overlay upper/work and a cgroup of
 * this test's own. Everything started here is tracked by pid (and start time) and removed in
 * afterAll, whatever happened.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHIM = join(ROOT, 'build/corral-shim');
const BUSYBOX = '/usr/bin/busybox';

const DOCKER_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const DOCKER_CAPS_MASK = '00000000a80425fb';
const MASKED = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
const UNSHARE = ['unshare', '--mount', '--uts', '--ipc', '--net', '--cgroup', '--pid', '--propagation', 'private', '--'];

const F = { STDIN: 1, STDOUT: 2, STDERR: 3, RESIZE: 4, STDIN_EOF: 5, EXIT: 6, ERROR: 7, SIGNAL: 8 } as const;

const whyNot = process.getuid?.() !== 0 ? 'needs root' : !existsSync(BUSYBOX) ? 'needs busybox-static' : undefined;
if (whyNot) console.warn(`SHIM INTEGRATION TESTS SKIPPED: ${whyNot}`);

// ---- what this file started, for cleanup by pid ----------------------------------------------

let tmp = '';
let lower = '';
const cgroups: string[] = [];
const monitors = new Set<ChildProcess>();
const containerPids = new Map<number, string>(); // host pid -> start time

/** Field 22 of /proc/PID/stat, as the monitor reports it (text). */
const starttime = (pid: number): string | undefined => processStartTimeSync(pid)?.toString();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- report lines and frames -------------------------------------------------------------------

class Lines {
  private buf = '';
  private lines: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.wake?.();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
  }
  async next(ms = 10_000): Promise<string | undefined> {
    const deadline = Date.now() + ms;
    while (this.lines.length === 0 && !this.ended) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a report line');
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
    return this.lines.shift();
  }
}

interface Frame {
  type: number;
  payload: Buffer;
}

class Frames {
  private buf = Buffer.alloc(0);
  readonly all: Frame[] = [];
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + len) break;
      this.all.push({ type: this.buf[0]!, payload: this.buf.subarray(5, 5 + len) });
      this.buf = this.buf.subarray(5 + len);
    }
  }
  async waitFor(type: number, ms = 10_000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.all.find((x) => x.type === type);
      if (f) return f;
      if (Date.now() > deadline) throw new Error(`timed out waiting for frame ${type}; have ${this.all.map((x) => x.type)}`);
      await sleep(20);
    }
  }
  text(type: number): string {
    return Buffer.concat(this.all.filter((f) => f.type === type).map((f) => f.payload)).toString();
  }
  async exit(ms?: number): Promise<{ code: number; signal: number }> {
    const f = await this.waitFor(F.EXIT, ms);
    return { code: f.payload.readInt32BE(0), signal: f.payload.readInt32BE(4) };
  }
}

function frame(type: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt32BE(p.length, 1);
  return Buffer.concat([h, p]);
}

async function attach(sock: string): Promise<{ frames: Frames; socket: Socket }> {
  const frames = new Frames();
  const socket = createConnection(sock);
  socket.on('data', (d: Buffer) => frames.push(d));
  socket.on('error', () => {});
  await new Promise<void>((res, rej) => {
    socket.once('connect', res);
    socket.once('error', rej);
  });
  return { frames, socket };
}

// ---- containers ---------------------------------------------------------------------------------

interface Opts {
  cmd: string[];
  init?: string[]; // extra options for the init stage
  monitor?: string[]; // extra options for the monitor
  hostname?: string;
  argv?: string[]; // replaces the whole chain after the monitor's `--`
  before?: (upper: string) => void; // prepares the upper layer before anything starts
  stdin?: boolean; // the monitor's stdin is a pipe (for --wait-run)
}

interface Box {
  dir: string;
  state: string;
  log: string;
  sock: string;
  notify: string;
  upper: string;
  rootfs: string;
  monitor: ChildProcess;
  report: Lines;
  exited: Promise<void>;
}

let boxes = 0;

function cgroupProcs(): string[] {
  return cgroups.flatMap((c) => ['--cgroup-procs', join(c, 'cgroup.procs')]);
}

function launch(o: Opts): Box {
  const dir = join(tmp, `c${++boxes}`);
  const b = {
    dir,
    state: join(dir, 'state'),
    log: join(dir, 'container.log'),
    sock: join(dir, 'attach.sock'),
    notify: join(dir, 'exited'),
    upper: join(dir, 'upper'),
    rootfs: join(dir, 'rootfs'),
  };
  for (const d of [b.state, b.upper, join(dir, 'work'), b.rootfs]) mkdirSync(d, { recursive: true });
  o.before?.(b.upper);
  const chain = o.argv ?? [
    ...UNSHARE,
    SHIM, 'init', '--rootfs', b.rootfs, '--lower', lower, '--upper', b.upper, '--work', join(dir, 'work'),
    '--hostname', o.hostname ?? 'shimtest',
    ...MASKED.flatMap((m) => ['--mask', m]),
    ...READONLY.flatMap((m) => ['--readonly-path', m]),
    ...DOCKER_CAPS.flatMap((c) => ['--cap', c]),
    '--env', 'PATH=/usr/bin:/bin', '--env', 'TERM=dumb',
    ...(o.init ?? []),
    '--', ...o.cmd,
  ];
  const args = [
    'monitor', '--id', `c${boxes}`, '--state-dir', b.state, '--log', b.log, '--socket', b.sock, '--exit-notify', b.notify,
    ...cgroupProcs(), ...(o.monitor ?? []), '--', ...chain,
  ];
  const monitor = spawn(SHIM, args, { stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'inherit'], detached: true });
  monitors.add(monitor);
  const exited = new Promise<void>((r) => monitor.once('exit', () => r()));
  exited.then(() => monitors.delete(monitor));
  return { ...b, monitor, report: new Lines(monitor.stdout!), exited };
}

/** The `started`/`failed` line (after `ready` with --wait-attach); remembers PID 1 for cleanup. */
async function reported(b: Box): Promise<string> {
  const line = (await b.report.next()) ?? '';
  // Every line the monitor writes is one corrald's parser (src/runtime/shim-protocol.ts) accepts.
  expect(parseReport(line), line).toBeDefined();
  const m = /^started (\d+) (\d+)$/.exec(line);
  if (m) containerPids.set(Number(m[1]), m[2]!);
  return line;
}

function pidOf(line: string): number {
  return Number(line.split(' ')[1]);
}

interface ExitJson {
  pid: number;
  exitCode: number;
  signal: number | null;
  finishedAt: string;
  error: string | null;
}

async function ended(b: Box, ms = 15_000): Promise<ExitJson> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('monitor did not exit')), ms);
  });
  try {
    await Promise.race([b.exited, late]);
  } finally {
    clearTimeout(timer);
  }
  return JSON.parse(readFileSync(join(b.state, 'exit.json'), 'utf8')) as ExitJson;
}

function logText(b: Box): string {
  return existsSync(b.log) ? readFileSync(b.log, 'utf8') : '';
}

/** The stdout records of the log, joined back into text. */
function stdoutOf(b: Box): string {
  let out = '';
  for (const line of logText(b).split('\n')) {
    const m = /^\S+ stdout ([FP]) (.*)$/.exec(line);
    if (m) out += m[2] + (m[1] === 'F' ? '\n' : '');
  }
  return out;
}

/** Run to the end; returns the report line, exit.json and the program's stdout. */
async function run(o: Opts): Promise<{ report: string; exit: ExitJson; out: string; box: Box }> {
  const box = launch(o);
  const report = await reported(box);
  const exit = await ended(box);
  return { report, exit, out: stdoutOf(box), box };
}

/** A foreground exec-mode monitor speaking frames on its stdio. */
function execSession(pid: number, start: string, cmd: string[], o: { exec?: string[]; monitor?: string[] } = {}) {
  const args = [
    'monitor', '--no-daemon', '--stdio-attach', ...cgroupProcs(), ...(o.monitor ?? []), '--',
    SHIM, 'exec', '--pid', String(pid), '--pid-start', start,
    ...DOCKER_CAPS.flatMap((c) => ['--cap', c]), '--env', 'PATH=/usr/bin:/bin', ...(o.exec ?? []), '--', ...cmd,
  ];
  const child = spawn(SHIM, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  monitors.add(child);
  child.once('exit', () => monitors.delete(child));
  const frames = new Frames();
  child.stdout!.on('data', (d: Buffer) => frames.push(d));
  const report = new Lines(child.stderr!);
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { child, frames, report, exited, send: (f: Buffer) => child.stdin!.write(f) };
}

async function runningBox(o: Partial<Opts> = {}): Promise<{ box: Box; pid: number; start: string }> {
  const box = launch({ cmd: ['sleep', '60'], ...o });
  const line = await reported(box);
  expect(line).toMatch(/^started \d+ \d+$/);
  return { box, pid: pidOf(line), start: line.split(' ')[2]! };
}

async function stop(b: { box: Box; pid: number }): Promise<ExitJson> {
  process.kill(b.pid, 'SIGKILL');
  return ended(b.box);
}

// ---- setup and teardown ------------------------------------------------------------------------

function makeRootfs(dir: string): void {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home/user', 'mnt', 'usr/bin']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  // Relative links: `busybox --install -s` would point them at this host path.
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nwheel:x:10:root,user\nusers:x:1000:\naudio:x:29:user\n');
  writeFileSync(join(dir, 'etc/hostname'), 'lower\n');
  writeFileSync(join(dir, 'etc/noexec.sh'), 'echo no\n', { mode: 0o644 });
}

/** v1 hierarchies cpu, memory, pids where mounted (this host), else one cgroup2 dir. */
function makeCgroups(): void {
  const name = `corral-shimtest-${process.pid}`;
  for (const h of ['cpu', 'memory', 'pids']) {
    const base = `/sys/fs/cgroup/${h}`;
    if (existsSync(join(base, 'cgroup.procs')) && !existsSync(join(base, 'cgroup.controllers'))) {
      mkdirSync(join(base, name));
      cgroups.push(join(base, name));
    }
  }
  if (cgroups.length === 0 && existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    mkdirSync(join('/sys/fs/cgroup', name));
    cgroups.push(join('/sys/fs/cgroup', name));
  }
}

async function cleanup(): Promise<void> {
  for (const [pid, start] of containerPids) {
    if (starttime(pid) === start) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  for (let i = 0; i < 50 && monitors.size > 0; i++) await sleep(100);
  for (const m of monitors) m.kill('SIGKILL');
  for (const cg of cgroups) {
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(cg);
        break;
      } catch {
        // Only processes this file started can be in its own cgroup.
        for (const p of readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(p), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await sleep(100);
      }
    }
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

describe.skipIf(whyNot)('corral-shim', { timeout: 30_000 }, () => {
  beforeAll(() => {
    execFileSync('sh', [join(ROOT, 'scripts/build-native')], { stdio: 'pipe' });
    tmp = mkdtempSync(join(tmpdir(), 'corral-shimtest-'));
    lower = join(tmp, 'lower');
    makeRootfs(lower);
    makeCgroups();
  }, 120_000);

  afterAll(cleanup, 60_000);

  describe('monitor', () => {
    it('logs output in CRI format and relays it to an attached client', async () => {
      const box = launch({ cmd: ['sh', '-c', 'echo hello; echo oops >&2; printf partial'], monitor: ['--wait-attach'] });
      expect(await box.report.next()).toBe('ready');
      const { frames } = await attach(box.sock);
      expect(await reported(box)).toMatch(/^started \d+ \d+$/);
      expect(await frames.exit()).toEqual({ code: 0, signal: 0 });
      expect(frames.text(F.STDOUT)).toBe('hello\npartial');
      expect(frames.text(F.STDERR)).toBe('oops\n');
      const log = logText(box);
      expect(log).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello$/m);
      expect(log).toMatch(/^\S+ stderr F oops$/m);
      expect(log).toMatch(/^\S+ stdout P partial$/m);
      await ended(box);
    });

    it('with --wait-attach, a client gets every byte of a large output', async () => {
      const box = launch({ cmd: ['seq', '1', '30000'], monitor: ['--wait-attach'] });
      expect(await box.report.next()).toBe('ready');
      const { frames } = await attach(box.sock);
      expect(await frames.exit()).toEqual({ code: 0, signal: 0 });
      const expected = Array.from({ length: 30000 }, (_, i) => `${i + 1}\n`).join('');
      expect(frames.text(F.STDOUT)).toBe(expected);
      await ended(box);
      expect(stdoutOf(box)).toBe(expected);
    });

    it('records the exit code in exit.json and notifies', async () => {
      const { report, exit, box } = await run({ cmd: ['sh', '-c', 'exit 42'] });
      expect(report).toMatch(/^started \d+ \d+$/);
      expect(exit).toMatchObject({ pid: pidOf(report), exitCode: 42, signal: null, error: null });
      expect(Number.isNaN(Date.parse(exit.finishedAt))).toBe(false);
      expect(existsSync(box.notify)).toBe(true);
      expect(existsSync(box.sock)).toBe(false);
    });

    it('reports a SIGKILLed PID 1 as 137 / signal 9 (waited for directly, not through unshare)', async () => {
      const c = await runningBox();
      const exit = await stop(c);
      expect(exit).toMatchObject({ pid: c.pid, exitCode: 137, signal: 9, error: null });
    });

    it('writes runtime.json naming itself and PID 1 by pid and start time; stays small', async () => {
      const c = await runningBox({ cmd: ['sh', '-c', 'echo hi; exec sleep 60'] });
      const rt = JSON.parse(readFileSync(join(c.box.state, 'runtime.json'), 'utf8'));
      expect(rt).toEqual({
        monitorPid: c.box.monitor.pid,
        monitorStartTime: Number(starttime(c.box.monitor.pid!)),
        pid: c.pid,
        pidStartTime: Number(c.start),
        startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/),
      });
      expect(Math.abs(Date.parse(rt.startedAt) - Date.now())).toBeLessThan(10_000);
      // An idle monitor, after relaying output: its resident set.
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.box.monitor.pid}/status`, 'utf8'))![1]);
      console.log(`idle monitor VmRSS: ${rss} kB`);
      expect(rss).toBeLessThanOrEqual(1024);
      await stop(c);
    });

    it('ignores SIGTERM, SIGINT and SIGHUP and never kills the container by itself', async () => {
      const c = await runningBox();
      for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.kill(c.box.monitor.pid!, s);
      await sleep(300);
      expect(c.box.monitor.exitCode).toBe(null);
      expect(starttime(c.pid)).toBe(c.start);
      expect((await stop(c)).exitCode).toBe(137);
    });

    it('puts the container in its cgroups before it runs', async () => {
      const c = await runningBox({ cmd: ['sh', '-c', 'cat /proc/self/cgroup; exec sleep 60'] });
      for (const cg of cgroups) expect(readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(c.pid));
      // The output reaches the log asynchronously: wait for it before stopping.
      for (let i = 0; i < 40 && !stdoutOf(c.box).includes('\n'); i++) await sleep(50);
      await stop(c);
      // Inside, the cgroup namespace makes its own cgroup the root.
      const lines = stdoutOf(c.box).split('\n').filter((l) => /:(pids|memory|cpu)(,|:)|^0::/.test(l));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(/:\/$/);
    });

    it('tells a client that connects after the end at once', async () => {
      const c = await runningBox();
      const ex = execSession(c.pid, c.start, ['sh', '-c', '(sleep 3 &); exit 3'], { monitor: ['--socket', join(c.box.dir, 'exec.sock')] });
      expect(await ex.report.next()).toMatch(/^started /);
      await sleep(300); // sh is gone; its orphan still holds the output pipe
      const t0 = Date.now();
      const late = await attach(join(c.box.dir, 'exec.sock'));
      expect(await late.frames.exit(500)).toEqual({ code: 3, signal: 0 });
      expect(Date.now() - t0).toBeLessThan(500);
      expect(await ex.frames.exit()).toEqual({ code: 3, signal: 0 });
      await stop(c);
    });
  });

  describe('failures', () => {
    it('a program not in $PATH: failed 127 with Docker’s message', async () => {
      const { report, exit, box } = await run({ cmd: ['nosuch'] });
      const msg = 'exec "nosuch": executable file not found in $PATH';
      expect(report).toBe(`failed 127 ${msg}`);
      expect(exit).toMatchObject({ exitCode: 127, signal: null, error: msg });
      expect(existsSync(box.notify)).toBe(true);
      expect(existsSync(join(box.state, 'runtime.json'))).toBe(false);
    });

    it('a file that is not executable: failed 126', async () => {
      const { report } = await run({ cmd: ['/etc/noexec.sh'] });
      expect(report).toBe('failed 126 exec "/etc/noexec.sh": permission denied');
    });

    it('an attached client gets ERROR then EXIT', async () => {
      const box = launch({ cmd: ['nosuch'], monitor: ['--wait-attach'] });
      expect(await box.report.next()).toBe('ready');
      const { frames } = await attach(box.sock);
      expect(await frames.exit()).toEqual({ code: 127, signal: 0 });
      expect(frames.text(F.ERROR)).toBe('exec "nosuch": executable file not found in $PATH');
      await ended(box);
    });

    it('a setup step names the operation and the path', async () => {
      const { report, box } = await run({ cmd: ['true'], init: ['--bind', '/nonexistent-corral', '/data', 'rw'] });
      expect(report).toBe(`failed 1 bind mount /nonexistent-corral on ${box.rootfs}/data: No such file or directory`);
    });

    it('an unknown user fails before anything runs', async () => {
      const { report } = await run({ cmd: ['true'], init: ['--user', 'nobody'] });
      expect(report).toBe('failed 1 look up user "nobody" in /etc/passwd: no such user');
    });

    it('a cgroup that cannot be joined stops the start', async () => {
      const { report } = await run({ cmd: ['true'], monitor: ['--cgroup-procs', '/nonexistent-corral/cgroup.procs'] });
      expect(report).toMatch(/^failed 1 write \d+ to \/nonexistent-corral\/cgroup\.procs: No such file or directory$/);
    });

    it('unshare itself failing is reported with its last stderr line', async () => {
      const { report, exit } = await run({ cmd: [], argv: ['unshare', '--no-such-flag', '--', 'true'] });
      expect(report).toMatch(/^failed 1 unshare exited with status 1: /);
      expect(exit.exitCode).toBe(1);
    });

    it('a missing ARGV[0] for the chain is reported', async () => {
      const { report } = await run({ cmd: [], argv: ['/nonexistent-unshare'] });
      expect(report).toBe('failed 1 exec /nonexistent-unshare: No such file or directory');
    });
  });

  describe('isolation', () => {
    it('pivot_root: the root is the overlay and no host path is visible', async () => {
      const { out } = await run({ cmd: ['cat', '/proc/1/mountinfo'] });
      const rows = out.trim().split('\n').map((l) => l.split(' '));
      const root = rows.find((r) => r[4] === '/');
      expect(root?.[root.indexOf('-') + 1]).toBe('overlay');
      expect(out).not.toContain(tmp);
      for (const r of rows) expect(['/', '/proc', '/sys', '/dev'].some((p) => r[4] === p || r[4]!.startsWith(`${p}/`))).toBe(true);
    });

    it('ps sees only the container’s processes', async () => {
      const { out } = await run({ cmd: ['sh', '-c', 'sleep 5 & ps -o pid,comm'] });
      const pids = out.trim().split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0]));
      expect(pids).toContain(1);
      expect(pids.length).toBeLessThanOrEqual(3);
      expect(Math.max(...pids)).toBeLessThan(10);
    });

    it('sets the hostname in its own UTS namespace', async () => {
      const { out } = await run({ cmd: ['hostname'], hostname: 'corral-box' });
      expect(out).toBe('corral-box\n');
    });

    it('has Docker’s 14 capabilities, no ambient or inheritable ones, and no_new_privs', async () => {
      const { out } = await run({ cmd: ['grep', '-E', '^(Cap|NoNewPrivs)', '/proc/self/status'] });
      expect(out).toContain(`CapBnd:\t${DOCKER_CAPS_MASK}`);
      expect(out).toContain(`CapEff:\t${DOCKER_CAPS_MASK}`);
      expect(out).toContain(`CapPrm:\t${DOCKER_CAPS_MASK}`);
      expect(out).toContain('CapInh:\t0000000000000000');
      expect(out).toContain('CapAmb:\t0000000000000000');
      expect(out).toContain('NoNewPrivs:\t1');
    });

    it('cannot mount, cannot write /proc/sys, sees masked paths empty', async () => {
      const { out } = await run({
        cmd: ['sh', '-c', [
          'mount -t tmpfs none /mnt && echo mount-ok || echo mount-failed',
          'echo evil > /proc/sys/kernel/hostname && echo sys-ok || echo sys-failed',
          'echo timer_list=$(wc -c < /proc/timer_list)', // kcore may not exist; this one does
          'echo firmware=$(ls /sys/firmware | wc -l)',
          'grep -cE " /proc/(sys|bus) ro," /proc/self/mountinfo',
        ].join('; ')],
      });
      expect(out).toContain('mount-failed');
      expect(out).toContain('sys-failed');
      expect(out).toContain('timer_list=0');
      expect(out).toContain('firmware=0');
      expect(out).toMatch(/^2$/m);
    });

    it('a device node made with CAP_MKNOD cannot be opened (every writable mount is nodev)', async () => {
      const dev = statSync('/', { bigint: true }).dev;
      const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
      const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
      const { out } = await run({
        cmd: ['sh', '-c', [
          `mknod /dev/sda b 8 0 && head -c1 /dev/sda >/dev/null && echo dev-read || echo dev-denied`,
          `mknod /tmp/root b ${major} ${minor} && echo made && head -c1 /tmp/root >/dev/null && echo root-read || echo root-denied`,
          `head -c1 /tmp/root 2>&1 >/dev/null`,
        ].join('; ')],
      });
      expect(out).toContain('dev-denied');
      expect(out).toContain('made');
      expect(out).toContain('root-denied');
      expect(out).not.toMatch(/-read/);
      expect(out).toMatch(/Permission denied/);
      // /dev/null and friends still work: they are binds of the host's nodes.
      expect((await run({ cmd: ['sh', '-c', 'echo x > /dev/null && head -c4 /dev/zero | wc -c'] })).out).toBe('4\n');
    });

    it('writes go to the upper dir, never the lower', async () => {
      const before = readFileSync(join(lower, 'etc/passwd'), 'utf8');
      const { exit, box } = await run({ cmd: ['sh', '-c', 'echo new > /newfile && echo x >> /etc/passwd && rm /etc/hostname'] });
      expect(exit.exitCode).toBe(0);
      expect(existsSync(join(lower, 'newfile'))).toBe(false);
      expect(readFileSync(join(lower, 'etc/passwd'), 'utf8')).toBe(before);
      expect(existsSync(join(lower, 'etc/hostname'))).toBe(true);
      expect(readFileSync(join(box.upper, 'newfile'), 'utf8')).toBe('new\n');
    });

    it('--read-only: the root cannot be written, /dev/shm still can', async () => {
      const { out } = await run({
        cmd: ['sh', '-c', 'touch /x 2>&1; touch /dev/shm/y && echo shm-ok'],
        init: ['--read-only'],
      });
      expect(out).toContain('Read-only file system');
      expect(out).toContain('shm-ok');
    });

    it('bind mounts: read-only when asked, and a symlink in the image cannot send one outside', async () => {
      const data = join(tmp, 'data');
      const victim = join(tmp, 'victim');
      mkdirSync(data, { recursive: true });
      mkdirSync(victim, { recursive: true });
      writeFileSync(join(data, 'hello.txt'), 'from host\n');
      // The image (here its upper layer) holds /escape -> the host's victim dir.
      const { out } = await run({
        cmd: ['sh', '-c', `cat /ro/hello.txt; touch /ro/x 2>&1; cat /escape/sub/hello.txt; ls ${victim}/sub`],
        init: ['--bind', data, '/ro', 'ro', '--bind', data, '/escape/sub', 'rw'],
        before: (upper) => symlinkSync(victim, join(upper, 'escape')),
      });
      // The link was followed inside the rootfs (to ROOTFS/<victim>/sub), never on the host.
      expect(out).toBe('from host\ntouch: /ro/x: Read-only file system\nfrom host\nhello.txt\n');
      expect(existsSync(join(victim, 'sub'))).toBe(false);
    });
  });

  describe('users', () => {
    it('--user 1000:1000 runs as uid 1000 with no capabilities', async () => {
      const { out } = await run({ cmd: ['sh', '-c', 'id -u; id -g; grep -E "^Cap(Eff|Prm)" /proc/self/status; echo $HOME'], init: ['--user', '1000:1000'] });
      expect(out).toBe(`1000\n1000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n/home/user\n`);
    });

    it('--user by name takes the primary and supplementary groups from /etc/group', async () => {
      const { out } = await run({ cmd: ['id'], init: ['--user', 'user'] });
      const m = /^uid=1000\(user\) gid=1000\(users\) groups=(.*)$/.exec(out.trim());
      expect(m?.[1]?.split(',').sort()).toEqual(['10(wheel)', '1000(users)', '29(audio)']);
    });

    it('--cwd is created when missing', async () => {
      const { out } = await run({ cmd: ['pwd'], init: ['--cwd', '/work/dir', '--user', 'user'] });
      expect(out).toBe('/work/dir\n');
    });
  });

  describe('--init', () => {
    it('reaps orphaned zombies and stays PID 1', async () => {
      const { out, exit } = await run({
        cmd: ['sh', '-c', 'sh -c "sleep 0.1 & exit 0"; sleep 0.6; cat /proc/1/comm; cat /proc/[0-9]*/stat | cut -d" " -f3 | sort | uniq -c'],
        init: ['--init'],
      });
      expect(exit.exitCode).toBe(0);
      expect(out).toMatch(/^corral-init$/m);
      expect(out).not.toMatch(/ Z$/m);
    });

    it('shows no host path in its command line', async () => {
      const { out } = await run({ cmd: ['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline'], init: ['--init'] });
      expect(out.trim()).toBe('corral-init');
    });

    it('forwards SIGTERM to the program and exits with 128+signal', async () => {
      const c = await runningBox({ init: ['--init'] });
      process.kill(c.pid, 'SIGTERM');
      expect(await ended(c.box)).toMatchObject({ exitCode: 143, signal: null });
    });

    it('exits with the program’s code', async () => {
      expect((await run({ cmd: ['sh', '-c', 'exit 7'], init: ['--init'] })).exit.exitCode).toBe(7);
      expect((await run({ cmd: ['nosuch'], init: ['--init'] })).report).toBe('failed 127 exec "nosuch": executable file not found in $PATH');
    });
  });

  describe('tty and stdin', () => {
    it('--tty: the program has a controlling tty, and RESIZE sets its size', async () => {
      const box = launch({ cmd: ['sh', '-c', 'sleep 0.3; tty; stty size'], monitor: ['--tty', '--wait-attach'], init: ['--tty'] });
      expect(await box.report.next()).toBe('ready');
      const { frames, socket } = await attach(box.sock);
      socket.write(frame(F.RESIZE, Buffer.from([0, 30, 0, 100])));
      expect(await frames.exit()).toEqual({ code: 0, signal: 0 });
      const out = frames.text(F.STDOUT);
      expect(out).toMatch(/^\/dev\/(console|pts\/\d+)\r\n30 100\r\n$/);
      await ended(box);
      expect(logText(box)).toMatch(/ stdout F 30 100\r$/m);
    });

    it('--stdin: STDIN frames reach the program and STDIN_EOF ends its input', async () => {
      const box = launch({ cmd: ['sh', '-c', 'cat; echo done'], monitor: ['--stdin', '--wait-attach'] });
      expect(await box.report.next()).toBe('ready');
      const { frames, socket } = await attach(box.sock);
      socket.write(frame(F.STDIN, 'abc\n'));
      socket.write(Buffer.concat([frame(F.STDIN, 'x'.repeat(100_000)), frame(F.STDIN, '\n'), frame(F.STDIN_EOF)]));
      expect(await frames.exit()).toEqual({ code: 0, signal: 0 });
      expect(frames.text(F.STDOUT)).toBe(`abc\n${'x'.repeat(100_000)}\ndone\n`);
      await ended(box);
    });
  });

  describe('exec stage', () => {
    it('joins the namespaces: same hostname, same processes, same limits', async () => {
      const c = await runningBox({ hostname: 'exec-box' });
      const ex = execSession(c.pid, c.start, ['sh', '-c', 'hostname; ps -o pid,comm; grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status; cat /proc/self/cgroup']);
      expect(await ex.report.next()).toMatch(/^started \d+ \d+$/);
      expect(await ex.frames.exit()).toEqual({ code: 0, signal: 0 });
      const out = ex.frames.text(F.STDOUT);
      expect(out).toMatch(/^exec-box\n/);
      expect(out).toMatch(/^\s*1 sleep$/m);
      const pids = out.split('\n').filter((l) => /^\s*\d+ /.test(l)).map((l) => Number(l.trim().split(' ')[0]));
      expect(Math.max(...pids)).toBeLessThan(10);
      expect(out).toContain(`CapBnd:\t${DOCKER_CAPS_MASK}`);
      expect(out).toContain('NoNewPrivs:\t1');
      for (const l of out.split('\n').filter((x) => /:(pids|memory|cpu)(,|:)|^0::/.test(x))) expect(l).toMatch(/:\/$/);
      await ex.exited;
      await stop(c);
    });

    it('runs as another user, and a SIGNAL frame reaches the process', async () => {
      const c = await runningBox();
      const who = execSession(c.pid, c.start, ['id', '-u'], { exec: ['--user', '1000'] });
      expect(await who.frames.exit()).toEqual({ code: 0, signal: 0 });
      expect(who.frames.text(F.STDOUT)).toBe('1000\n');
      const ex = execSession(c.pid, c.start, ['sleep', '30']);
      expect(await ex.report.next()).toMatch(/^started /);
      ex.send(frame(F.SIGNAL, Buffer.from([15])));
      expect(await ex.frames.exit()).toEqual({ code: 143, signal: 15 });
      await stop(c);
    });

    it('with a tty from the container’s devpts, `tty` names /dev/pts/N', async () => {
      const c = await runningBox();
      const ex = execSession(c.pid, c.start, ['tty'], { monitor: ['--tty', '--pty-root', `/proc/${c.pid}/root`], exec: ['--tty'] });
      expect(await ex.frames.exit()).toEqual({ code: 0, signal: 0 });
      expect(ex.frames.text(F.STDOUT)).toMatch(/^\/dev\/pts\/\d+\r\n$/);
      await stop(c);
    });

    it('refuses a pid whose start time does not match', async () => {
      const c = await runningBox();
      const ex = execSession(c.pid, String(Number(c.start) + 1), ['true']);
      expect(await ex.report.next()).toBe(`failed 1 exec: pid ${c.pid} started at ${c.start}, not ${Number(c.start) + 1}: not the container`);
      expect(await ex.frames.exit()).toEqual({ code: 1, signal: 0 });
      await stop(c);
    });
  });

  describe('shim protocol (src/native/proto.h)', () => {
    let driver = '';
    beforeAll(() => {
      driver = join(tmp, 'proto-driver');
      execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11', `-I${join(ROOT, 'src/native')}`, '-o', driver,
        join(ROOT, 'test/native/proto-driver.c'), join(ROOT, 'src/native/proto.c'), join(ROOT, 'src/native/util.c')], { stdio: 'pipe' });
    }, 60_000);
    const drive = (scenario: string) => execFileSync(driver, [scenario], { encoding: 'utf8', timeout: 20_000 }).trim().split('\n');

    it('PID and ERROR arrive as typed messages; the stage’s exec (O_CLOEXEC end) is EOF', () => {
      expect(drive('pid-error-exec')).toEqual([
        'PID child', 'ERROR mount proc on /rootfs/proc: Permission denied', 'EOF', 'stage exit 0',
      ]);
    });

    it('IDMAP round trip: a stage in a new user namespace waits for its maps; a failed write is its ERROR', () => {
      const out = drive('idmap');
      expect(out[0]).toBe('IDMAP_REQUEST child');
      expect(out[1]).toMatch(/^ERROR uid 65534 then 0, uid_map +0 +100000 +65536;$/);
      expect(out[2]).toBe('IDMAP_REQUEST child');
      expect(out[3]).toMatch(/^ERROR second request: write \/proc\/\d+\/uid_map: Operation not permitted$/);
      expect(out.slice(4)).toEqual(['EOF', 'stage exit 0']);
    });

    it('FD passes a descriptor (received O_CLOEXEC); stray descriptors and lying headers are refused, nothing leaks', () => {
      expect(drive('fd')).toEqual([
        'FD test-pipe',
        'read "through the fd" from it (cloexec)',
        'recv error (EPROTO): receive PID: it carried 1 descriptor(s)',
        'recv error (EPROTO): receive ERROR: length 9 in a 7-byte message',
        'EOF',
        'fds leaked: 0',
      ]);
    });

    /** PID 1 of the box's container, found among the monitor's children by its namespaced pid. */
    function pid1Of(b: Box): number {
      const kids = readFileSync(`/proc/${b.monitor.pid}/task/${b.monitor.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
      const pid = kids.map(Number).find((k) => {
        try {
          return /^NSpid:\s+\d+\s+1$/m.test(readFileSync(`/proc/${k}/status`, 'utf8'));
        } catch {
          return false;
        }
      });
      expect(pid, `PID 1 among ${kids}`).toBeDefined();
      return pid!;
    }

    it('--wait-run: "ready" once the container is set up, the program starts at "run"', async () => {
      const box = launch({ cmd: ['sh', '-c', 'echo ran'], monitor: ['--wait-run'], init: ['--wait-run'], stdin: true });
      expect(await box.report.next()).toBe('ready');
      // Created, not started: PID 1 exists, pivoted into the rootfs, still the shim waiting for RUN.
      const pid = pid1Of(box);
      containerPids.set(pid, starttime(pid)!);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1, 2)).toEqual(['init']);
      expect(readFileSync(`/proc/${pid}/root/etc/hostname`, 'utf8')).toBe('lower\n');
      expect(stdoutOf(box)).toBe('');
      box.monitor.stdin!.end(RUN_LINE);
      const line = await reported(box);
      expect(line).toMatch(/^started \d+ \d+$/);
      expect(pidOf(line)).toBe(pid);
      expect((await ended(box)).exitCode).toBe(0);
      expect(stdoutOf(box)).toBe('ran\n');
    });

    it('--wait-run: stdin closed before "run" aborts the start, the program never runs', async () => {
      const box = launch({ cmd: ['sh', '-c', 'echo ran'], monitor: ['--wait-run'], init: ['--wait-run'], stdin: true });
      expect(await box.report.next()).toBe('ready');
      box.monitor.stdin!.end();
      const msg = 'start aborted: corrald closed the monitor\'s stdin before "run"';
      expect(await reported(box)).toBe(`failed 1 ${msg}`);
      expect(await ended(box)).toMatchObject({ exitCode: 1, error: msg });
      expect(stdoutOf(box)).toBe('');
    });

    it('--wait-run excludes --wait-attach (both would say "ready")', async () => {
      const box = launch({ cmd: ['true'], monitor: ['--wait-run', '--wait-attach'] });
      const report = await reported(box);
      await box.exited; // a usage error: exit 2 before anything, no exit.json
      expect(box.monitor.exitCode).toBe(2);
      expect(report).toMatch(/^failed 1 monitor: --wait-run goes with neither --wait-attach nor --stdio-attach/);
    });

    it('corrald’s side: spawnMonitor reads ready, run() sends RUN, then started', async () => {
      const dir = join(tmp, 'spawn-monitor');
      for (const d of ['state', 'upper', 'work', 'rootfs']) mkdirSync(join(dir, d), { recursive: true });
      const m = spawnMonitor(SHIM, [
        'monitor', '--id', 'spawned', '--state-dir', join(dir, 'state'), '--socket', join(dir, 'a.sock'),
        '--exit-notify', join(dir, 'exited'), ...cgroupProcs(), '--wait-run', '--',
        ...UNSHARE, SHIM, 'init', '--rootfs', join(dir, 'rootfs'), '--lower', lower, '--upper', join(dir, 'upper'),
        '--work', join(dir, 'work'), '--wait-run', '--env', 'PATH=/usr/bin:/bin', '--', 'sleep', '60',
      ], join(dir, 'monitor.log'), { waitRun: true });
      monitors.add(m.child);
      const exited = new Promise<void>((r) => m.child.once('exit', () => r()));
      exited.then(() => monitors.delete(m.child));
      try {
        expect(await m.next()).toEqual({ kind: 'ready' });
        m.run();
        const started = await m.next();
        expect(started).toMatchObject({ kind: 'started', pid: expect.any(Number) });
        if (started.kind !== 'started') throw new Error('not started');
        containerPids.set(started.pid, String(started.startTime));
        expect(starttime(started.pid)).toBe(String(started.startTime));
        process.kill(started.pid, 'SIGKILL');
        await exited;
        expect(JSON.parse(readFileSync(join(dir, 'state/exit.json'), 'utf8'))).toMatchObject({ pid: started.pid, exitCode: 137 });
      } finally {
        m.release();
      }
    });
  });
});
