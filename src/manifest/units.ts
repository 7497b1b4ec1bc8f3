import { isAbsolute, posix, resolve } from 'node:path';
import { MIN_CPU_QUOTA_US, MIN_MEMORY_BYTES, DEFAULT_CPU_PERIOD_US, parseList } from '../cgroups/limits.js';
import { ValidationError } from '../errors.js';
import { MIN_DISK_BYTES } from '../storage/size.js';
import { formatBytes, parseK8sBytes, parseK8sCpu } from '../util/quantity.js';
import { parseDuration as parseDockerDuration } from '../util/time.js';
import type { IssueCode } from './issues.js';

/**
 * Manifest units, exactly as Kubernetes writes them (ANCHORS "Two notes on units"): memory
 * `256Mi` = 256·2^20 bytes but `256M` = 256·10^6, and `m` is milli, so CPU `500m` is half a CPU
 * while memory `500m` is half a byte (refused). Docker's `512m` = 512 MiB is NOT accepted here.
 * Conversions produce what corrald's Docker-style limit flags take: plain byte counts and decimal
 * CPU counts, so nothing is converted twice.
 */

export class UnitError extends Error {
  constructor(
    readonly code: IssueCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The smallest CPU limit: the kernel's 1 ms CFS quota per 100 ms period = 10m. */
export const MIN_MILLICORES = (MIN_CPU_QUOTA_US * 1000) / DEFAULT_CPU_PERIOD_US;
/** CONFIG_NR_CPUS can be at most 8192; whether this host has that many is corrald's check. */
export const MAX_MILLICORES = 8192 * 1000;

/** `500m`, `0.5`, `1.5`, `2`, `1e0` → millicores (500, 500, 1500, 2000, 1000). */
export function parseCpu(text: string): number {
  const cores = quantity(() => parseK8sCpu(text, 'cpu'));
  const milli = Math.round(cores * 1000);
  if (Math.abs(cores * 1000 - milli) > 1e-6 * Math.max(1, milli)) {
    throw new UnitError('quantity', `invalid cpu ${JSON.stringify(text)}: finer than 1m (a thousandth of a CPU)`);
  }
  if (milli < MIN_MILLICORES) {
    throw new UnitError('quantity', `invalid cpu ${JSON.stringify(text)}: at least ${MIN_MILLICORES}m (0.01 CPU), the kernel's smallest quota`);
  }
  if (milli > MAX_MILLICORES) throw new UnitError('quantity', `invalid cpu ${JSON.stringify(text)}: at most ${MAX_MILLICORES / 1000} CPUs`);
  return milli;
}

/** 500 → `0.5`, 1500 → `1.5`, 2000 → `2`, 10 → `0.01`: exact, as corrald's --cpus takes it. */
export function millicoresToCpus(milli: number): string {
  const whole = Math.floor(milli / 1000);
  const frac = milli % 1000;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/** A container's disk (`disk: 10Gi`): at least 16Mi, as corrald's --storage-opt size requires. */
export function parseDisk(text: string, field: string): number {
  const bytes = parseBytes(text, field);
  if (bytes < MIN_DISK_BYTES) throw new UnitError('quantity', `invalid ${field} ${JSON.stringify(text)}: that is ${bytes} bytes; at least 16Mi (${MIN_DISK_BYTES} bytes)`);
  return bytes;
}

/** Memory sizes: at least 6Mi, as Docker requires. */
export function parseMemory(text: string, field: string): number {
  const bytes = parseBytes(text, field);
  if (bytes < MIN_MEMORY_BYTES) {
    const plain = /^\d+$/.test(text.trim()) && Number(text) * 2 ** 20 >= MIN_MEMORY_BYTES;
    throw new UnitError(
      'quantity',
      `invalid ${field} ${JSON.stringify(text)}: that is ${bytes} bytes; at least 6Mi (${MIN_MEMORY_BYTES} bytes)`,
      plain ? `did you mean ${text.trim()}Mi?` : undefined,
    );
  }
  return bytes;
}

/** Any positive whole number of bytes as a Kubernetes quantity. */
export function parseBytes(text: string, field: string): number {
  const t = text.trim();
  // Docker-style units are the usual slip; name the Kubernetes spelling.
  const docker = /^(\d+(?:\.\d+)?)\s*(?:([kKmMgGtTpP])(?:i?[bB])|([gtp]))$/.exec(t);
  if (docker) {
    const unit = (docker[2] ?? docker[3]!).toUpperCase();
    const k8s = unit === 'K' ? 'Ki' : `${unit}i`;
    throw new UnitError('quantity', `invalid ${field} ${JSON.stringify(text)}: not a Kubernetes quantity (units: Ki Mi Gi Ti, or k M G T for powers of 10)`, `did you mean ${docker[1]}${k8s}?`);
  }
  const bytes = quantity(() => parseK8sBytes(t, field));
  if (bytes <= 0) throw new UnitError('quantity', `invalid ${field} ${JSON.stringify(text)}: must be more than 0 bytes`);
  return bytes;
}

/**
 * The trap in a byte quantity, if any: a decimal suffix (`256M` = 256,000,000 bytes) where the
 * binary one was probably meant. Only a warning: `1G` may be meant.
 */
export function bytesUnitTrap(text: string): string | undefined {
  const m = /^(\d+(?:\.\d+)?)([kMGTPE])$/.exec(text.trim());
  if (!m) return undefined;
  const bytes = parseK8sBytes(text.trim(), 'memory');
  const binary = m[2] === 'k' ? 'Ki' : `${m[2]}i`;
  return `${text.trim()} is ${bytes.toLocaleString('en-US')} bytes (${approxBinary(bytes)}), not ${m[1]} ${binary}B; did you mean ${m[1]}${binary}?`;
}

/** The trap in a CPU quantity: a large bare number (`cpu: 500` is 500 CPUs). */
export function cpuUnitTrap(text: string): string | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t) && Number(t) >= 100) return `${t} is ${t} CPUs; did you mean ${t}m (${millicoresToCpus(Number(t))} CPU)?`;
  return undefined;
}

/** Docker durations as corrald reads them (util/time.ts): `30s`, `1m30s`, `500ms`, `1h`, `1.5s` → whole milliseconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  let ms: number;
  try {
    ms = parseDockerDuration(t, 'duration');
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const hint = /^\d+(\.\d+)?$/.test(t) ? `add a unit: ${t}s` : undefined;
    throw new UnitError('duration', `invalid duration ${JSON.stringify(text)}: expected a number and a unit (ms, s, m, h), e.g. 30s or 1m30s`, hint);
  }
  const whole = Math.round(ms);
  if (Math.abs(ms - whole) > 1e-9) throw new UnitError('duration', `invalid duration ${JSON.stringify(text)}: durations are counted in whole milliseconds`);
  if (whole > 24 * 3_600_000) throw new UnitError('duration', `invalid duration ${JSON.stringify(text)}: at most 24h`);
  return whole;
}

/** `0-1,3` (or a YAML number, `0`) in kernel list syntax. */
export function parseCpuList(text: string): string {
  if (!parseList(text.trim())) throw new UnitError('format', `invalid list ${JSON.stringify(text)}: expected kernel list syntax like 0-1 or 0,2`);
  return text.trim();
}

/**
 * A host path as written in a manifest: absolute, or relative to the manifest's directory when it
 * starts with `./` or `../`. A bare name would be a Docker named volume, which corral has not.
 */
export function resolveHostPath(text: string, baseDir: string): string {
  if (text.includes('\0')) throw new UnitError('format', 'a host path must not contain NUL bytes');
  if (isAbsolute(text)) return posix.normalize(text);
  if (text === '.' || text === '..' || text.startsWith('./') || text.startsWith('../')) return resolve(baseDir, text);
  if (text.startsWith('~')) throw new UnitError('format', `host path ${JSON.stringify(text)}: ~ is not expanded`, 'write the absolute path');
  throw new UnitError('format', `host path ${JSON.stringify(text)}: expected an absolute path or one starting with ./`, `named volumes are not supported; did you mean ./${text}?`);
}

/** An absolute path inside the container without `..`. */
export function checkContainerPath(text: string): string {
  if (!text.startsWith('/')) throw new UnitError('format', `container path ${JSON.stringify(text)}: must be absolute`, `did you mean /${text}?`);
  if (text.split('/').includes('..')) throw new UnitError('format', `container path ${JSON.stringify(text)}: must not contain ".."`);
  if (text.includes('\0')) throw new UnitError('format', 'a container path must not contain NUL bytes');
  return posix.normalize(text);
}

export interface ParsedVolume {
  source: string;
  target: string;
  readOnly: boolean;
}

/** `HOST:CONTAINER[:ro|rw]`. */
export function parseVolume(text: string, baseDir: string): ParsedVolume {
  const parts = text.split(':');
  const mode = parts.length === 3 ? parts[2] : undefined;
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '' || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new UnitError('format', `invalid volume ${JSON.stringify(text)}: expected HOST:CONTAINER or HOST:CONTAINER:ro`);
  }
  return { source: resolveHostPath(parts[0]!, baseDir), target: checkContainerPath(parts[1]!), readOnly: mode === 'ro' };
}

/** quantity.ts throws ValidationError("invalid FIELD "V": reason[; did you mean X?]"); keep the hint apart. */
function quantity<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const [message, hint] = err.message.split(/; (?=did you mean)/);
    throw new UnitError('quantity', message!, hint);
  }
}

function approxBinary(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let n = bytes;
  let i = -1;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  if (i < 0) return formatBytes(bytes);
  return `${Number.isInteger(n) ? n : n.toFixed(2)} ${units[i]}`;
}

/**
 * The `format`s docs/manifest.schema.json names, as assertions: each takes the scalar as written
 * and the key it sits under, and throws a UnitError when it is not valid.
 */
export const FORMATS: Readonly<Record<string, (text: string, field: string) => unknown>> = {
  'k8s-cpu': (t) => parseCpu(t),
  'k8s-memory': (t, f) => parseMemory(t, f),
  'k8s-memory-or-unlimited': (t, f) => (t.trim() === 'unlimited' ? 'unlimited' : parseBytes(t, f)),
  'k8s-bytes': (t, f) => parseBytes(t, f),
  'k8s-disk': (t, f) => parseDisk(t, f),
  'cpu-list': (t) => parseCpuList(t),
  duration: (t) => parseDuration(t),
  volume: (t) => parseVolume(t, '/'),
  'host-path': (t) => resolveHostPath(t, '/'),
  'container-path': (t) => checkContainerPath(t),
};
