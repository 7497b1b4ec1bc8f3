import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { cgroupSet, isFrozen, type CgroupSet } from './cgroups.js';
import type { OciHooks } from './spec.js';

/**
 * A container's record under --root: `<root>/<id>/state.json` (written once the process exists)
 * and `exec.fifo` (present until `start`). Status comes from the kernel: the recorded pid alive
 * with the recorded start time (field 22 of /proc/PID/stat) and not a zombie.
 */

export const OCI_VERSION = '1.1.0';
export const DEFAULT_ROOT = '/run/corral-oci';

export interface ContainerRecord {
  id: string;
  pid: number;
  pidStartTime: number;
  bundle: string;
  rootfs: string;
  created: string;
  annotations: Record<string, string>;
  cgroupsPath: string;
  hooks: OciHooks;
  /** A compiled seccomp program for exec'd processes, when the bundle has one. */
  seccomp: string | null;
}

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

export function checkId(id: string | undefined): string {
  if (!id) throw new ValidationError('a container id is required');
  if (!ID.test(id)) throw new ValidationError(`container id ${JSON.stringify(id)}: letters, digits, _ . + - only`);
  return id;
}

export const containerDir = (root: string, id: string): string => join(root, id);
export const fifoPath = (root: string, id: string): string => join(root, id, 'exec.fifo');

export function loadRecord(root: string, id: string): ContainerRecord {
  const file = join(containerDir(root, checkId(id)), 'state.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ContainerRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`container ${id} does not exist`);
    throw err;
  }
}

export function saveRecord(root: string, r: ContainerRecord): void {
  const file = join(containerDir(root, r.id), 'state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(r));
  renameSync(`${file}.tmp`, file);
}

/** Make <root>/<id>, refusing an id in use. */
export function reserve(root: string, id: string): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = containerDir(root, checkId(id));
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`container ${id} already exists`);
    throw err;
  }
  return dir;
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root).filter((n) => ID.test(n) && existsSync(join(root, n, 'state.json')));
  } catch {
    return [];
  }
}

/** /proc/PID/stat: state letter and start time, or undefined when gone. */
export function procStat(pid: number): { state: string; start: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0]!, start: Number(f[19]) };
}

export function alive(r: ContainerRecord): boolean {
  if (r.pid <= 0) return false;
  const s = procStat(r.pid);
  return s !== undefined && s.start === r.pidStartTime && s.state !== 'Z' && s.state !== 'X';
}

export function cgroupsOf(r: ContainerRecord): CgroupSet {
  return cgroupSet(r.cgroupsPath);
}

export function statusOf(root: string, r: ContainerRecord): Status {
  if (!alive(r)) return 'stopped';
  if (existsSync(fifoPath(root, r.id))) return 'created';
  if (isFrozen(cgroupsOf(r))) return 'paused';
  return 'running';
}

/** The state JSON of `state` (runtime-spec runtime.md "State"), also fed to hooks on stdin. */
export function stateJson(r: ContainerRecord, status: Status): Record<string, unknown> {
  return {
    ociVersion: OCI_VERSION,
    id: r.id,
    status,
    pid: status === 'stopped' ? 0 : r.pid,
    bundle: r.bundle,
    rootfs: r.rootfs,
    created: r.created,
    owner: '',
    annotations: r.annotations,
  };
}
