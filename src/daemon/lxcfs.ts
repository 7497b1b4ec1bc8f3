import type { ContainerConfig } from '../api/types.js';
import type { CorralPaths } from '../config.js';
import { CorralError, describe } from '../errors.js';
import { type EtcBind, lxcfsBinds, rebindArgs } from '../namespaces/argv.js';
import type { Containers, LxcfsSource } from '../runtime/containers.js';
import { FUSE_LXCFS, LXCFS_FILES, type LxcfsMount, LxcfsSupervisor } from '../system/lxcfs.js';
import { readMountinfo } from '../system/mountinfo.js';
import type { Runner } from '../system/runner.js';
import { findProgram } from '../system/which.js';
import type { Logger } from '../util/logger.js';

export type LxcfsMode = 'on' | 'off';

export function parseLxcfsMode(v: string): LxcfsMode {
  if (v !== 'on' && v !== 'off') throw new CorralError('validation', `--lxcfs ${v}: want on or off`);
  return v;
}

/** A running container and the LXCFS files bound in it (targets as its mountinfo names them). */
interface Bound {
  id: string;
  pid: number;
  pidStartTime: number;
  mounts: { dev: string; root: string; target: string }[];
}

/**
 * corrald's LXCFS: one lxcfs per installation under the run root, its files bound into every
 * container that does not opt out. When lxcfs dies its binds answer ENOTCONN, and a new lxcfs
 * does not revive them: so after each restart the stale binds in running containers are replaced
 * (`corral-shim rebind`, which enters the container's mount namespace). At corrald stop lxcfs
 * keeps running while any container reads through it; the next corrald adopts it.
 */
export class DaemonLxcfs implements LxcfsSource {
  private supervisor: LxcfsSupervisor | undefined;
  private containers: Containers | undefined;
  /** Why containers get no binds (off, not installed, failed to start); undefined while serving. */
  reason: string | undefined;

  private constructor(
    private readonly o: { paths: CorralPaths; runner: Runner; log: Logger; shim: string },
    binary: string | undefined,
    reason: string | undefined,
  ) {
    this.reason = reason;
    if (binary) this.supervisor = new LxcfsSupervisor({ binary, paths: o.paths, runner: o.runner, log: o.log, onRestart: (m) => this.reconcile(m) });
  }

  static async create(mode: LxcfsMode, o: { paths: CorralPaths; runner: Runner; log: Logger; shim: string }): Promise<DaemonLxcfs> {
    if (mode === 'off') return new DaemonLxcfs(o, undefined, 'corrald runs with --lxcfs off');
    const binary = await findProgram('lxcfs').catch(() => undefined);
    return new DaemonLxcfs(o, binary, binary ? undefined : 'lxcfs is not installed (apt-get install lxcfs)');
  }

  /** Start or adopt lxcfs (before containers are recovered: a restarted one gets the binds). */
  async start(): Promise<void> {
    if (!this.supervisor) {
      this.o.log.info('containers run without LXCFS: they see the host\'s /proc/meminfo, cpuinfo, uptime, ...', { reason: this.reason });
      return;
    }
    try {
      await this.supervisor.start();
    } catch (err) {
      this.reason = `lxcfs did not start: ${describe(err)}`;
      this.o.log.error('containers run without LXCFS', { reason: this.reason });
      this.supervisor = undefined;
    }
  }

  /** Once containers are known: repair the binds of those that outlived a previous lxcfs. */
  async attach(containers: Containers): Promise<void> {
    this.containers = containers;
    const m = await this.supervisor?.ready();
    if (m) await this.reconcile(m);
  }

  async bindsFor(c: ContainerConfig): Promise<readonly EtcBind[]> {
    if (c.lxcfs === false || !this.supervisor) return [];
    const m = await this.supervisor.ready().catch(() => undefined);
    return m ? lxcfsBinds(m.mountpoint, m.files) : [];
  }

  /** At corrald stop: lxcfs goes with it unless a running container still reads through it. */
  async close(): Promise<void> {
    const s = this.supervisor;
    if (!s) return;
    const inUse = (await this.bound()).filter((b) => b.mounts.length > 0);
    if (inUse.length > 0) {
      s.detach();
      this.o.log.info('lxcfs keeps running for the containers that read through it', { containers: inUse.map((b) => b.id.slice(0, 12)) });
    } else {
      await s.stop();
    }
  }

  /** Replace every bind of another (dead) lxcfs connection in running containers. */
  private async reconcile(m: LxcfsMount): Promise<void> {
    for (const b of await this.bound()) {
      const stale = b.mounts.filter((x) => x.dev !== m.dev);
      if (stale.length === 0) continue;
      const binds = stale.map((x) => ({ source: `${m.mountpoint}${x.root}`, target: x.target }));
      const r = await this.o.runner.run(this.o.shim, rebindArgs({ pid: b.pid, pidStartTime: b.pidStartTime, binds }), { allowFailure: true });
      if (r.exitCode === 0) this.o.log.info('lxcfs files rebound', { id: b.id, files: binds.map((x) => x.target) });
      else this.o.log.warn('cannot rebind lxcfs files', { id: b.id, err: r.stderr.trim() });
    }
  }

  /** Running containers and the LXCFS files bound in each, from their mountinfo (the kernel's word). */
  private async bound(): Promise<Bound[]> {
    const containers = this.containers;
    if (!containers) return [];
    const out: Bound[] = [];
    for (const s of await containers.list(false)) {
      const rt = await containers.runtimeOf(s.id).catch(() => undefined);
      if (!rt) continue;
      const mounts = (await readMountinfo(rt.pid))
        .filter((e) => e.fsType === FUSE_LXCFS && (LXCFS_FILES as readonly string[]).includes(e.mountPoint))
        .map((e) => ({ dev: e.dev, root: e.root, target: e.mountPoint }));
      out.push({ id: s.id, pid: rt.pid, pidStartTime: rt.pidStartTime, mounts });
    }
    return out;
  }
}
