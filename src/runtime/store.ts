import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, HealthState } from '../api/types.js';
import type { AppliedSetting } from '../cgroups/limits.js';
import { INITIAL_RESTART_STATE, type RestartState } from './restart-policy.js';
import { containerDir, containersDir, type CorralPaths } from '../config.js';
import { CorralError, fsError, isErrno } from '../errors.js';
import { atomicWriteJson } from '../util/atomic-write.js';
import { crashPoint, failPoint } from '../util/crash.js';
import { layerLayout, type LayerLayout } from '../rootfs/layout.js';
import { DISK_IMAGE, diskPaths } from '../storage/paths.js';
import { migrateConfig, storedConfig } from './config-version.js';

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

/** A stop that was asked for and not yet seen through (a corrald that dies mid-stop finishes it). */
export interface StopRequest {
  requestedAt: string;
  /** When SIGKILL is due (ms since the epoch). */
  killAt: number;
}

/** What a container directory holds as far as recovery is concerned. */
export type StoredConfig =
  | { kind: 'ok'; config: ContainerConfig }
  /** No config.json and nothing of the user's yet: a create that never finished. */
  | { kind: 'uncommitted' }
  /** Kept, listed as broken, removable; never deleted behind the user's back. */
  | { kind: 'broken'; reason: string };

/**
 * The on-disk layout of containers. config.json is the commit point of a create; `.creating` marks
 * a directory whose create has not reached it. A config that exists but cannot be read is never
 * taken for an unfinished create (the container is quarantined instead).
 */
export class ContainerStore {
  constructor(readonly paths: CorralPaths) {}

  dir(id: string): string {
    return containerDir(this.paths, id);
  }
  file(id: string, name: '.creating' | 'stop.json' | 'config.json' | 'runtime.json' | 'exit.json' | 'oom.json' | 'limits.json' | 'policy.json' | 'health.json' | 'container.log' | 'monitor.log' | 'hosts' | 'hostname' | 'resolv.conf' | 'network.json'): string {
    return join(this.dir(id), name);
  }
  layout(id: string, c?: { storage?: unknown }): LayerLayout {
    return layerLayout(this.dir(id), Boolean(c?.storage));
  }

  async prepare(config: ContainerConfig): Promise<void> {
    const l = this.layout(config.id, config);
    try {
      await mkdir(containersDir(this.paths), { recursive: true, mode: 0o700 });
      await mkdir(this.dir(config.id), { mode: 0o700 });
      await writeFile(this.file(config.id, '.creating'), '', { mode: 0o600 });
      // The overlay's upper dir becomes the container's "/": world-readable like any root.
      // With a disk quota, upper and work are made in the disk when it is first mounted.
      if (!config.storage) {
        await mkdir(l.upper, { mode: 0o755 });
        await mkdir(l.work, { mode: 0o700 });
      }
      await mkdir(l.mountpoint, { mode: 0o755 });
      // The upper layer's top is the container's "/": owned by its root, a host id of its range
      // (a disk's upper is made, and owned so, when the disk is first mounted).
      if (config.userns.mode === 'private' && !config.storage) await chown(l.upper, config.userns.uidBase, config.userns.gidBase);
    } catch (err) {
      throw fsError('create', this.dir(config.id), err);
    }
  }

  async writeConfig(config: ContainerConfig): Promise<void> {
    await atomicWriteJson(this.file(config.id, 'config.json'), storedConfig(config));
  }

  /** The commit point of a create: the config, then the marker goes. */
  async commit(config: ContainerConfig): Promise<void> {
    await this.writeConfig(config);
    await rm(this.file(config.id, '.creating'), { force: true });
  }

  /** A committed container's config (brought up to the current version); throws if unreadable. */
  async readConfig(id: string): Promise<ContainerConfig | undefined> {
    const s = await this.readStored(id);
    if (s.kind === 'ok') return s.config;
    if (s.kind === 'uncommitted') return undefined;
    throw new CorralError('internal', `read ${this.file(id, 'config.json')}: ${s.reason}`);
  }

  /** What start-up recovery decides on: a config, an unfinished create, or a broken container. */
  async readStored(id: string): Promise<StoredConfig> {
    const path = this.file(id, 'config.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) return { kind: 'broken', reason: `cannot read config.json: ${(err as Error).message}` };
      // Without the marker, an empty upper layer still means nothing of the user's exists yet
      // (a create cut short between mkdir and the marker).
      if (existsSync(this.file(id, '.creating'))) return { kind: 'uncommitted' };
      const upper = await readdir(this.layout(id).upper).catch(() => [] as string[]);
      if (existsSync(diskPaths(this.dir(id)).image)) upper.push(DISK_IMAGE);
      return upper.length === 0 ? { kind: 'uncommitted' } : { kind: 'broken', reason: 'config.json is missing' };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { kind: 'broken', reason: `config.json is not valid JSON (${(err as Error).message})` };
    }
    const m = migrateConfig(raw);
    return 'problem' in m ? { kind: 'broken', reason: m.problem } : { kind: 'ok', config: m.config };
  }

  async readStop(id: string): Promise<StopRequest | undefined> {
    return readJson<StopRequest>(this.file(id, 'stop.json')).catch(() => undefined);
  }
  async writeStop(id: string, r: StopRequest): Promise<void> {
    await atomicWriteJson(this.file(id, 'stop.json'), r);
  }
  async clearStop(id: string): Promise<void> {
    await rm(this.file(id, 'stop.json'), { force: true });
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
    failPoint('start:write-limits', this.file(id, 'limits.json'));
    await atomicWriteJson(this.file(id, 'limits.json'), applied, 0o600, false);
  }

  /** Forget the last run before a new start (the overlay upper layer stays, as in Docker). */
  async clearRun(id: string): Promise<void> {
    await Promise.all((['runtime.json', 'exit.json', 'oom.json', 'limits.json', 'health.json', 'stop.json'] as const).map((f) => rm(this.file(id, f), { force: true })));
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
