import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { VolumeSpec } from '../api/types.js';
import { ValidationError } from '../errors.js';

/** Flag values as Docker reads them. Pure except where a flag names a host file. */

/** commander parser for repeatable options: `-e A -e B` → ['A', 'B']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** commander parser for a non-negative integer (a bad value is a usage error). */
export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('not a non-negative integer.');
  return Number(value);
}

/** `--tail N|all` → N or 'all' (commander cannot store undefined from a parser). */
export function tailCount(value: string): number | 'all' {
  if (value === 'all') return 'all';
  return nonNegativeInt(value);
}

/**
 * `-e K=V` as is; `-e K` takes K's value from the CLI's environment and is dropped when K is not
 * set there (as Docker does).
 */
export function parseEnvFlags(values: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === '') throw new ValidationError(`invalid environment variable: ${v}`);
    if (eq >= 0) out.push(v);
    else if (env[key] !== undefined) out.push(`${key}=${env[key]}`);
  }
  return out;
}

/**
 * Docker's env-file format: leading whitespace ignored, blank lines and `#` comments skipped,
 * `K=V` taken literally (no quotes, no expansion), `K` alone taken from the environment if set.
 */
export function parseEnvFile(text: string, env: NodeJS.ProcessEnv = process.env, file = 'env file'): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key === '') throw new ValidationError(`${file}:${i + 1}: no variable name on line '${line}'`);
    if (/\s/.test(key)) throw new ValidationError(`${file}:${i + 1}: variable '${key}' contains whitespaces`);
    if (eq >= 0) out.push(line);
    else if (env[key] !== undefined) out.push(`${key}=${env[key]}`);
  });
  return out;
}

export function readEnvFiles(files: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ValidationError(`open ${file}: ${errnoText(err)}`);
    }
    return parseEnvFile(text, env, file);
  });
}

/** `--env-file` entries first, then `-e` (so a flag overrides the file), as Docker orders them. */
export function buildEnv(flags: string[], envFiles: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return [...readEnvFiles(envFiles, env), ...parseEnvFlags(flags, env)];
}

/** `-l K=V` → { K: 'V' }; `-l K` → { K: '' }. */
export function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === '') throw new ValidationError(`invalid label ${JSON.stringify(v)}: empty key`);
    labels[key] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return labels;
}

/**
 * `-v HOST:CTR[:OPTS]`, OPTS a comma list of ro|rw and idmap (Podman's spelling): the host path is
 * made absolute against `cwd` and must exist; the container path must be absolute and not `/`.
 */
export function parseVolume(spec: string, cwd: string = process.cwd()): VolumeSpec {
  const bad = (why: string) => new ValidationError(`invalid volume ${JSON.stringify(spec)}: ${why}`, { volume: spec });
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw bad('expected HOST:CONTAINER[:ro|rw][,idmap]');
  const [host, target, opts = 'rw'] = parts as [string, string, string?];
  if (host === '') throw bad('empty host path');
  if (!isAbsolute(target)) throw bad(`container path ${JSON.stringify(target)} is not absolute`);
  if (target.replace(/\/+$/, '') === '') throw bad('container path cannot be /');
  let mode = 'rw';
  let idmap = false;
  for (const o of opts.split(',')) {
    if (o === 'ro' || o === 'rw') mode = o;
    else if (o === 'idmap') idmap = true;
    else throw bad(`unknown mode ${JSON.stringify(o)} (use ro or rw, and idmap)`);
  }
  // Docker's rule: a source without a `/` (and not `.`/`~`-relative) is a named volume.
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(host) && host !== '.' && host !== '..') {
    if (idmap) throw bad('idmap is for host paths (a named volume is idmapped by itself)');
    return { type: 'volume', source: host, target, readOnly: mode === 'ro' };
  }
  const source = resolve(cwd, host);
  try {
    statSync(source);
  } catch (err) {
    throw bad(`host path ${source}: ${errnoText(err)}`);
  }
  return { source, target, readOnly: mode === 'ro', ...(idmap ? { idmap } : {}) };
}

/** "no such file or directory" from a Node fs error. */
export function errnoText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

/**
 * Docker's `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly]` (also src, dst,
 * destination, ro, readonly=true|false, tmpfs-size=, tmpfs-mode=).
 */
export function parseMount(spec: string, cwd: string = process.cwd()): VolumeSpec {
  const bad = (why: string) => new ValidationError(`invalid --mount ${JSON.stringify(spec)}: ${why}`, { mount: spec });
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  const tmpfs: string[] = [];
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const k = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? undefined : field.slice(eq + 1);
    if (k === 'type') type = v ?? '';
    else if (k === 'source' || k === 'src') source = v;
    else if (k === 'target' || k === 'dst' || k === 'destination') target = v;
    else if (k === 'readonly' || k === 'ro') {
      if (v !== undefined && !['true', 'false', '1', '0'].includes(v)) throw bad(`${k}=${v}: true or false`);
      readOnly = v === undefined || v === 'true' || v === '1';
    } else if (k === 'tmpfs-size') tmpfs.push(`size=${v ?? ''}`);
    else if (k === 'tmpfs-mode') tmpfs.push(`mode=${v ?? ''}`);
    else throw bad(`unknown field ${JSON.stringify(k)} (type, source, target, readonly, tmpfs-size, tmpfs-mode)`);
  }
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw bad(`type ${JSON.stringify(type)}: bind, volume or tmpfs`);
  if (!target) throw bad('target is required');
  if (!isAbsolute(target)) throw bad(`target ${JSON.stringify(target)} is not absolute`);
  if (tmpfs.length > 0 && type !== 'tmpfs') throw bad('tmpfs-size and tmpfs-mode are for type=tmpfs');
  if (type === 'tmpfs') {
    if (source) throw bad('a tmpfs has no source');
    return { type, source: '', target, readOnly, tmpfsOptions: tmpfs.join(',') };
  }
  if (type === 'volume') return { type, source: source ?? '', target, readOnly };
  if (!source) throw bad('a bind needs a source');
  const abs = resolve(cwd, source);
  try {
    statSync(abs);
  } catch (err) {
    throw bad(`source ${abs}: ${errnoText(err)}`);
  }
  return { source: abs, target, readOnly };
}

/** Docker's `--tmpfs PATH[:OPTIONS]`. */
export function parseTmpfs(spec: string): VolumeSpec {
  const i = spec.indexOf(':');
  const target = i < 0 ? spec : spec.slice(0, i);
  if (!isAbsolute(target)) throw new ValidationError(`invalid --tmpfs ${JSON.stringify(spec)}: ${JSON.stringify(target)} is not an absolute path`, { tmpfs: spec });
  return { type: 'tmpfs', source: '', target, readOnly: false, tmpfsOptions: i < 0 ? '' : spec.slice(i + 1) };
}
