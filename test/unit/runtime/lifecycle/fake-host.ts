import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { CgroupManager } from '../../../../src/cgroups/manager.js';
import type { CorralPaths } from '../../../../src/config.js';
import { Containers, type ProcessSeam, type RuntimeDeps } from '../../../../src/runtime/containers.js';
import type { MonitorReport, SpawnedMonitor } from '../../../../src/runtime/shim.js';

/** One call the runtime made on the outside world, in order. */
export type Call = string;

/**
 * A host for lifecycle unit tests: a data and run root in a temp dir, a fake /proc, a cgroup
 * manager and a process seam that record every call, and monitors whose containers are fake
 * processes that die when signalled the way the real monitor reports it (exit.json, then a file
 * in <run>/exits).
 */
export class FakeHost {
  readonly base = mkdtempSync(join(tmpdir(), 'corral-lifecycle-'));
  readonly paths: CorralPaths = { dataRoot: join(this.base, 'data'), runRoot: join(this.base, 'run'), cgroupParent: 'corral-test', cgroupRoot: join(this.base, 'cgroup'), bridgePrefix: 'corral' };
  readonly proc = join(this.base, 'proc');
  readonly calls: Call[] = [];
  /** Signals a fake container ignores (PID 1 without a handler ignores SIGTERM). */
  ignore = new Set<string>(['SIGTERM']);
  /** What the next spawned monitor reports after `started`. */
  nextReport: MonitorReport['kind'] = 'started';
  private nextPid = 1000;
  private readonly cgroupPids = new Map<string, number[]>();
  private readonly children = new Map<number, { id: string; monitor: EventEmitter & { pid: number; exitCode: number | null; signalCode: null } }>();
  private readonly watchers = new Set<() => void>();

  constructor() {
    mkdirSync(this.proc, { recursive: true });
  }

  close(): void {
    // Background writes (the id pool, hosts files) may still land while the tree goes.
    rmSync(this.base, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  }

  deps(extra: Partial<RuntimeDeps> = {}): RuntimeDeps {
    return {
      paths: this.paths,
      cgroups: this.cgroups(),
      templates: { resolve: async (name) => ({ rootfs: join(this.base, 'templates', name), layers: [join(this.base, 'templates', name)], env: ['PATH=/bin'], command: ['sh'], entrypoint: [], workdir: '', user: '', stopSignal: '' }) },
      shim: '/nonexistent/corral-shim',
      log: { debug() {}, info() {}, warn() {}, error() {} },
      defaultNetwork: 'none',
      processes: this.processes(),
      ...extra,
    };
  }

  containers(extra: Partial<RuntimeDeps> = {}): Containers {
    return new Containers(this.deps(extra));
  }

  /** A fake live process in the fake /proc. */
  spawnProcess(): { pid: number; startTime: number } {
    const pid = this.nextPid++;
    const startTime = pid * 10;
    mkdirSync(join(this.proc, String(pid)), { recursive: true });
    const fields = Array.from({ length: 50 }, (_, i) => String(i));
    fields[0] = 'S';
    fields[19] = String(startTime);
    writeFileSync(join(this.proc, String(pid), 'stat'), `${pid} (fake) ${fields.join(' ')}`);
    return { pid, startTime };
  }

  alive(pid: number): boolean {
    return existsSync(join(this.proc, String(pid), 'stat'));
  }

  /** The container process `pid` ends: its monitor records the status and notifies corrald. */
  die(pid: number, exitCode: number, signal: number | null): void {
    rmSync(join(this.proc, String(pid)), { recursive: true, force: true });
    const child = this.children.get(pid);
    if (!child) return;
    this.children.delete(pid);
    const dir = join(this.paths.dataRoot, 'containers', child.id);
    writeFileSync(join(dir, 'exit.json'), JSON.stringify({ pid, exitCode, signal, finishedAt: new Date().toISOString(), error: null }));
    writeFileSync(join(this.paths.runRoot, 'exits', child.id), '');
    this.cgroupPids.set(child.id, []);
    rmSync(join(this.proc, String(child.monitor.pid)), { recursive: true, force: true });
    child.monitor.exitCode = 0;
    child.monitor.emit('exit', 0, null);
    for (const w of this.watchers) w();
  }

  private cgroups(): CgroupManager {
    const calls = this.calls;
    const pids = this.cgroupPids;
    const host = this;
    const frozen = new Set<string>();
    return {
      driver: 'v2',
      async ensureParent() {},
      async create(id) {
        calls.push(`cgroup.create ${id.slice(0, 4)}`);
        if (!pids.has(id)) pids.set(id, []);
        return [];
      },
      paths: (id) => [join(host.paths.cgroupRoot, id)],
      processPaths: (id) => [join(host.paths.cgroupRoot, id, 'payload')],
      procsFiles: (id) => [join(host.paths.cgroupRoot, id, 'payload', 'cgroup.procs')],
      async pids(id) {
        return pids.get(id) ?? [];
      },
      async kill(id, signal = 'SIGKILL') {
        calls.push(`cgroup.kill ${id.slice(0, 4)} ${signal}`);
        for (const pid of pids.get(id) ?? []) host.deliver(pid, signal);
      },
      async remove(id) {
        calls.push(`cgroup.remove ${id.slice(0, 4)}`);
        if ((pids.get(id) ?? []).length > 0) throw new Error(`EBUSY: rmdir ${id}`);
        pids.delete(id);
      },
      async list() {
        return [...pids.keys()];
      },
      controllers: () => ({ available: [], missing: [] }),
      async removeParent() {},
      async apply() {
        return [];
      },
      async stats() {
        throw new Error('no stats in the fake');
      },
      async oomKills() {
        return 0;
      },
      async freeze(id) {
        calls.push(`cgroup.freeze ${id.slice(0, 4)}`);
        frozen.add(id);
      },
      async thaw(id) {
        calls.push(`cgroup.thaw ${id.slice(0, 4)}`);
        frozen.delete(id);
      },
      async frozen(id) {
        return frozen.has(id);
      },
    };
  }

  private deliver(pid: number, signal: NodeJS.Signals | number): void {
    if (!this.alive(pid) || this.ignore.has(String(signal))) return;
    this.die(pid, signal === 'SIGTERM' ? 143 : 137, signal === 'SIGTERM' ? 15 : 9);
  }

  private processes(): ProcessSeam {
    return {
      procRoot: this.proc,
      spawnMonitor: (_shim, argv) => {
        const id = argv[argv.indexOf('--id') + 1]!;
        const monitorProc = this.spawnProcess();
        const monitor = Object.assign(new EventEmitter(), { pid: monitorProc.pid, exitCode: null as number | null, signalCode: null });
        this.calls.push(`spawn ${id.slice(0, 4)}`);
        const reports: MonitorReport[] = [];
        if (this.nextReport === 'started') {
          const p1 = this.spawnProcess();
          this.children.set(p1.pid, { id, monitor });
          this.cgroupPids.set(id, [p1.pid]);
          const dir = join(this.paths.dataRoot, 'containers', id);
          writeFileSync(join(dir, 'runtime.json'), JSON.stringify({ monitorPid: monitorProc.pid, monitorStartTime: monitorProc.startTime, pid: p1.pid, pidStartTime: p1.startTime, startedAt: new Date().toISOString() }));
          reports.push({ kind: 'started', pid: p1.pid, startTime: p1.startTime });
        } else reports.push({ kind: 'failed', code: 127, message: 'exec "nosuch": executable file not found in $PATH' });
        const spawned: SpawnedMonitor = {
          child: monitor as unknown as ChildProcess,
          next: async () => reports.shift()!,
          release: () => {},
        };
        return spawned;
      },
      signal: (pid, signal) => {
        this.calls.push(`signal ${pid} ${signal}`);
        this.deliver(pid, signal);
      },
      isAlive: async (pid) => this.alive(pid),
      watchExits: (_dir, onChange) => {
        this.watchers.add(onChange);
        return { close: () => this.watchers.delete(onChange) };
      },
      compileSeccomp: async (_shim, _flat, out) => writeFileSync(out, 'bpf'),
    };
  }
}
