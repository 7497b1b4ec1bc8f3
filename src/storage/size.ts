import { ValidationError } from '../errors.js';
import { formatBytes, parseDockerBytes } from '../util/quantity.js';

/** The smallest disk a container may get: ext4's journal and metadata take about 8 MiB of it. */
export const MIN_DISK_BYTES = 16 * 2 ** 20;

/** The storage options Corral knows (Docker's `--storage-opt KEY=VALUE`). */
const KNOWN = ['size'] as const;

/**
 * `--storage-opt size=10G` (Docker's flag and binary units: `64m` is 64 MiB) → the disk size in
 * bytes, or undefined when no size is asked for. Unknown keys and sizes below MIN_DISK_BYTES are
 * refused, naming the option.
 */
export function parseStorageOpt(raw: unknown): { sizeBytes: number } | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError('storageOpt: expected an object of KEY: VALUE (e.g. {"size": "10G"})');
  const opts = raw as Record<string, unknown>;
  for (const k of Object.keys(opts)) {
    if (!(KNOWN as readonly string[]).includes(k)) throw new ValidationError(`--storage-opt ${k}: unknown storage option (known: ${KNOWN.join(', ')})`, { storageOpt: k });
  }
  if (opts.size === undefined) return undefined;
  if (typeof opts.size !== 'string' && typeof opts.size !== 'number') throw new ValidationError('--storage-opt size: expected a string or a number');
  const sizeBytes = parseDockerBytes(opts.size, '--storage-opt size');
  if (sizeBytes < MIN_DISK_BYTES) {
    throw new ValidationError(`invalid --storage-opt size=${opts.size}: the disk must be at least ${formatBytes(MIN_DISK_BYTES)} (ext4's journal and metadata need room)`, { storageOpt: 'size' });
  }
  return { sizeBytes };
}

/** `KEY=VALUE` strings as the CLI takes them (repeatable `--storage-opt`) → the API's object. */
export function storageOptFromFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new ValidationError(`invalid --storage-opt ${JSON.stringify(v)}: expected KEY=VALUE, e.g. size=10G`);
    out[v.slice(0, eq).trim()] = v.slice(eq + 1).trim();
  }
  return out;
}
