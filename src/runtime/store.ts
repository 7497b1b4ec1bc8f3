import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, HealthState } from '../api/types.js';
import type { AppliedSetting } from '../cgroups/limits.js';
import { INITIAL_RESTART_STATE, type RestartState } from './restart-policy.js';
import { containerDir, containersDir, type CorralPaths } from '../config.js';
import { fsError, isErrno } from '../errors.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import { crashPoint } from '../util/crash.js';
import { NONE_NETWORK_CONFIG } from './spec.js';

/** What the monitor writes (docs/shim.md). */
export interface RuntimeRecord {
  monitorPid: number;
  monitorStartTime: number;
  pid: number;
  pidStartTime: number;
  startedAt: string;
}

export interface ExitRecord {
  pid: number | null;
  exitCode: number;
  signal: number | null;
  finishedAt: string;
  error: string | null;
}

/**
 * The on-disk layout of containers. config.json is the commit point of a create: a directory
 * without it is a create that never finished and is removed at the next daemon start.
 */
export class ContainerStore {
  constructor(readonly paths: CorralPaths) {}

  dir(id: string): string {
    return containerDir(this.paths, id);
  }
  file(id: string, name: 'config.json' | 'runtime.json' | 'exit.json' | 'oom.json' | 'limits.json' | 'policy.json' | 'health.json' | 'container.log' | 'monitor.log' | 'hosts' | 'hostname' | 'resolv.conf' | 'network.json'): string {
    return join(this.dir(id), name);
  }
  layout(id: string): { upper: string; work: string; mountpoint: string } {
    const d = this.dir(id);
    return { upper: join(d, 'upper'), work: join(d, 'work'), mountpoint: join(d, 'rootfs') };
  }

  async prepare(config: ContainerConfig): Promise<void> {
    const l = this.layout(config.id);
    try {
      await mkdir(containersDir(this.paths), { recursive: true, mode: 0o700 });
      await mkdir(this.dir(config.id), { mode: 0o700 });
      // The overlay's upper dir becomes the container's "/": world-readable like any root.
      await mkdir(l.upper, { mode: 0o755 });
      await mkdir(l.work, { mode: 0o700 });
      await mkdir(l.mountpoint, { mode: 0o755 });
    } catch (err) {
      throw fsError('create', this.dir(config.id), err);
    }
  }

  async writeConfig(config: ContainerConfig): Promise<void> {
    await atomicWriteJson(this.file(config.id, 'config.json'), config);
  }

  async readConfig(id: string): Promise<ContainerConfig | undefined> {
    const c = await readJson<ContainerConfig>(this.file(id, 'config.json'));
    // Configs written before limits existed: no limits; before networking: loopback only.
    return c && { ...c, limits: c.limits ?? {}, limitRequest: c.limitRequest ?? {}, ignoreMissingLimits: c.ignoreMissingLimits ?? false, oomScoreAdj: c.oomScoreAdj ?? null, restartPolicy: c.restartPolicy ?? { name: 'no', maxRetries: null }, healthcheck: c.healthcheck ?? null, network: c.network ?? NONE_NETWORK_CONFIG };
  }
  async readRuntime(id: string): Promise<RuntimeRecord | undefined> {
    return readJson<RuntimeRecord>(this.file(id, 'runtime.json'));
  }
  async readExit(id: string): Promise<ExitRecord | undefined> {
    return readJson<ExitRecord>(this.file(id, 'exit.json'));
  }
  /** OOM kills of the last run, saved by corrald before it removed the cgroup. */
  async readOom(id: string): Promise<{ kills: number; message: string | null } | undefined> {
    return readJson(this.file(id, 'oom.json'));
  }
  async writeOom(id: string, oom: { kills: number; message: string | null }): Promise<void> {
    await atomicWriteJson(this.file(id, 'oom.json'), oom);
  }
  /** The health verdict (a cache for ps/inspect; written on every change). */
  async readHealth(id: string): Promise<HealthState | undefined> {
    return readJson<HealthState>(this.file(id, 'health.json'));
  }
  async writeHealth(id: string, h: HealthState): Promise<void> {
    await atomicWriteJson(this.file(id, 'health.json'), h, 0o600, false);
  }
  /** corrald's restart bookkeeping; durable: it must survive a reboot (unless-stopped). */
  async readPolicy(id: string): Promise<RestartState> {
    return { ...INITIAL_RESTART_STATE, ...(await readJson<RestartState>(this.file(id, 'policy.json'))) };
  }
  async writePolicy(id: string, s: RestartState): Promise<void> {
    await atomicWriteJson(this.file(id, 'policy.json'), s);
  }
  /** What the last start or update wrote to the kernel (a cache for inspect). */
  async readApplied(id: string): Promise<AppliedSetting[]> {
    return (await readJson<AppliedSetting[]>(this.file(id, 'limits.json'))) ?? [];
  }
  async writeApplied(id: string, applied: AppliedSetting[]): Promise<void> {
    await atomicWriteJson(this.file(id, 'limits.json'), applied, 0o600, false);
  }

  /** Forget the last run before a new start (the overlay upper layer stays, as in Docker). */
  async clearRun(id: string): Promise<void> {
    await Promise.all((['runtime.json', 'exit.json', 'oom.json', 'limits.json', 'health.json'] as const).map((f) => rm(this.file(id, f), { force: true })));
  }

  /** Ids of every directory under containers/, committed or not. */
  async listIds(): Promise<string[]> {
    try {
      return (await readdir(containersDir(this.paths))).filter((n) => /^[0-9a-f]{64}$/.test(n));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw fsError('read', containersDir(this.paths), err);
    }
  }

  /** Leftovers of interrupted removes (renamed to .trash-*) to finish deleting. */
  async listTrash(): Promise<string[]> {
    try {
      return (await readdir(containersDir(this.paths))).filter((n) => n.startsWith('.trash-')).map((n) => join(containersDir(this.paths), n));
    } catch {
      return [];
    }
  }

  /**
   * Remove a container's directory: rename it out of the way first (one atomic step that
   * forgets the container), then delete the tree, which may be large.
   */
  async destroy(id: string): Promise<void> {
    const trash = join(containersDir(this.paths), `.trash-${id}`);
    try {
      await rename(this.dir(id), trash);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw fsError('remove', this.dir(id), err);
    }
    crashPoint('remove:renamed-to-trash');
    await rm(trash, { recursive: true, force: true }).catch((err) => {
      throw fsError('remove', trash, err);
    });
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw fsError('read', path, err);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw fsError('parse', path, err);
  }
}
