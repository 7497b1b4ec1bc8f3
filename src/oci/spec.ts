import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { NotFoundError, ValidationError } from '../errors.js';

/**
 * The parts of the OCI runtime spec's config.json (runtime-spec config.md, config-linux.md) that
 * corral-oci reads. Fields it does not know are ignored, as the spec asks of runtimes.
 */

export interface OciUser {
  uid?: number;
  gid?: number;
  umask?: number;
  additionalGids?: number[];
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user?: OciUser;
  args?: string[];
  env?: string[];
  cwd?: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface OciHooks {
  prestart?: OciHook[];
  createRuntime?: OciHook[];
  createContainer?: OciHook[];
  startContainer?: OciHook[];
  poststart?: OciHook[];
  poststop?: OciHook[];
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciDevice {
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: string;
  major?: number | null;
  minor?: number | null;
  access?: string;
}

export interface OciResources {
  devices?: OciDeviceRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string; idle?: number };
  pids?: { limit?: number };
  blockIO?: { weight?: number };
  unified?: Record<string, string>;
}

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: OciSeccompArg[] }[];
}

export interface OciLinux {
  namespaces?: { type: string; path?: string }[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  devices?: OciDevice[];
  cgroupsPath?: string;
  resources?: OciResources;
  rootfsPropagation?: string;
  seccomp?: OciSeccomp;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
}

export interface OciSpec {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: OciMount[];
  hooks?: OciHooks;
  annotations?: Record<string, string>;
  linux?: OciLinux;
}

/** Read and minimally check BUNDLE/config.json. */
export function loadSpec(bundle: string): OciSpec {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`read ${file}: no such file`);
    throw err;
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`parse ${file}: ${(err as Error).message}`);
  }
  return checkSpec(spec, file);
}

export function checkSpec(raw: unknown, file: string): OciSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError(`${file}: not a JSON object`);
  const s = raw as OciSpec;
  if (typeof s.ociVersion !== 'string') throw new ValidationError(`${file}: ociVersion missing`);
  if (!s.root || typeof s.root.path !== 'string') throw new ValidationError(`${file}: root.path missing`);
  if (!s.process || !Array.isArray(s.process.args) || s.process.args.length === 0) throw new ValidationError(`${file}: process.args missing`);
  if (s.process.cwd !== undefined && !isAbsolute(s.process.cwd)) throw new ValidationError(`${file}: process.cwd ${s.process.cwd} is not absolute`);
  for (const m of s.mounts ?? []) if (typeof m.destination !== 'string') throw new ValidationError(`${file}: a mount without destination`);
  return s;
}

/** A process.json of `exec --process`. */
export function loadProcess(file: string): OciProcess {
  let p: unknown;
  try {
    p = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(`read process ${file}: ${(err as Error).message}`);
  }
  const proc = p as OciProcess;
  if (typeof p !== 'object' || p === null || !Array.isArray(proc.args) || proc.args.length === 0) throw new ValidationError(`process ${file}: args missing`);
  return proc;
}
