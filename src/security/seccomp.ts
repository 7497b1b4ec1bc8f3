import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SeccompConfig } from '../api/types.js';
import { ValidationError } from '../errors.js';
import { atomicWrite } from '../util/atomic-write.js';
import { packageRoot } from '../util/package-root.js';
import { parseSeccompProfile } from './seccomp-profile.js';
import { hostTarget, renderFlat, resolveSeccomp } from './seccomp-resolve.js';

/**
 * `--security-opt` (Docker's spelling) and the container's seccomp files. At create the profile
 * (Corral's default, or the user's) is frozen in the container's directory as `seccomp.json`,
 * resolved against the container's capabilities into `seccomp.flat` (the shim's input format), and
 * compiled by `corral-seccomp` (the shim's sibling) into `seccomp.bpf`, which the init and exec stages load
 * right before exec, for PID 1 and for every exec. Compiling is milliseconds of libseccomp work;
 * doing it once here keeps it off every start and exec.
 */

/** What a container gets without `--security-opt seccomp=…`. */
export const DEFAULT_SECCOMP: SeccompConfig = { profile: 'default', source: null, sha256: null };
/** Containers created before seccomp existed ran without a filter, and keep doing so. */
export const UNCONFINED_SECCOMP: SeccompConfig = { profile: 'unconfined', source: null, sha256: null };

export const SECCOMP_PROFILE_FILE = 'seccomp.json';
export const SECCOMP_FLAT_FILE = 'seccomp.flat';
export const SECCOMP_BPF_FILE = 'seccomp.bpf';

export interface SecurityOptions {
  /** `builtin` (the default), `unconfined`, or the text of a Docker-format profile. */
  seccomp: 'builtin' | 'unconfined' | { text: string };
  noNewPrivileges: true;
}

/**
 * The API form, as Docker's: `seccomp=unconfined`, `seccomp=builtin`, `seccomp=<profile JSON>` (the
 * CLI reads FILE and sends its text), `no-new-privileges[=true]`. `:` is accepted for `=`, as Docker does.
 */
export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { seccomp: 'builtin', noNewPrivileges: true };
  let seccompGiven = false;
  for (const opt of opts) {
    const m = /^([a-z-]+)(?:[=:]([\s\S]*))?$/.exec(opt);
    const key = m?.[1];
    const value = m?.[2];
    const shown = opt.length > 60 ? `${opt.slice(0, 57)}...` : opt;
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') continue;
      if (value === 'false') throw new ValidationError('--security-opt no-new-privileges=false: not supported; Corral always sets no_new_privs (setuid programs do not gain privileges in a container)');
      throw new ValidationError(`--security-opt ${shown}: expected no-new-privileges, no-new-privileges=true`);
    }
    if (key === 'seccomp' && value !== undefined && value !== '') {
      if (seccompGiven) throw new ValidationError('--security-opt seccomp=… is given twice');
      seccompGiven = true;
      out.seccomp = value === 'unconfined' || value === 'builtin' ? value : { text: value };
      continue;
    }
    throw new ValidationError(`--security-opt ${JSON.stringify(shown)}: unknown or unsupported option (seccomp=FILE|unconfined, no-new-privileges)`);
  }
  return out;
}

let defaultText: string | undefined;
/** src/security/seccomp/default.json, read once. */
export function defaultSeccompProfileText(): string {
  defaultText ??= readFileSync(join(packageRoot(), 'src', 'security', 'seccomp', 'default.json'), 'utf8');
  return defaultText;
}

/** Flat filters by profile digest and capabilities; a few entries cover most installations. */
const resolved = new Map<string, string>();
const RESOLVED_MAX = 32;

export interface SeccompFiles {
  config: SeccompConfig;
  /** The texts of seccomp.json and seccomp.flat; null when unconfined. */
  profile: string | null;
  filter: string | null;
}

/**
 * The container's seccomp config and files, validated completely: a bad profile fails here, at
 * create, with its source named (`source`: where the CLI read it). Pure except for reading the
 * default profile.
 */
export function seccompForContainer(opts: SecurityOptions, capabilities: readonly string[], source: string | null = null): SeccompFiles {
  if (opts.seccomp === 'unconfined') {
    if (source !== null) throw new ValidationError('seccompSource: only with a seccomp profile');
    return { config: { ...UNCONFINED_SECCOMP }, profile: null, filter: null };
  }
  const custom = opts.seccomp !== 'builtin';
  if (!custom && source !== null) throw new ValidationError('seccompSource: only with a seccomp profile');
  const text = custom ? (opts.seccomp as { text: string }).text : defaultSeccompProfileText();
  const sha256 = createHash('sha256').update(text).digest('hex');
  const target = hostTarget(capabilities);
  // Parsing and resolving the default profile is ~9 ms a create; the same text for the same
  // capabilities resolves the same way, and a refused profile throws before it is remembered.
  const key = `${sha256} ${[...target.capabilities].sort().join(',')}`;
  let filter = resolved.get(key);
  if (filter === undefined) {
    filter = renderFlat(resolveSeccomp(parseSeccompProfile(text, custom ? (source ?? '(given inline)') : 'default.json'), target));
    if (resolved.size >= RESOLVED_MAX) resolved.delete(resolved.keys().next().value!);
    resolved.set(key, filter);
  }
  return {
    config: { profile: custom ? 'custom' : 'default', source: custom ? source : null, sha256 },
    profile: text,
    filter,
  };
}

/**
 * Written into the container's directory before its config is committed. `compile` is
 * compileSeccomp (a seam for tests); corral-seccomp checks the flat file strictly too, and what it
 * or libseccomp refuses is reported as an error in the profile. Compiled programs are kept in
 * `cacheDir` by the sha256 of the flat text: containers with the same profile and capabilities
 * (most of them) share one compile, so a create pays it once per installation.
 */
export async function writeSeccompFiles(dir: string, f: SeccompFiles, o: { compile: (flat: string, out: string) => Promise<void>; cacheDir: string }): Promise<void> {
  if (f.profile === null || f.filter === null) return;
  const flat = join(dir, SECCOMP_FLAT_FILE);
  const bpf = join(dir, SECCOMP_BPF_FILE);
  await atomicWrite(join(dir, SECCOMP_PROFILE_FILE), f.profile, 0o600);
  await atomicWrite(flat, f.filter, 0o600);
  const cached = join(o.cacheDir, `${createHash('sha256').update(f.filter).digest('hex')}.bpf`);
  const program = await readFile(cached).catch(() => undefined);
  // A whole program only: anything else is compiled again (and the cache entry replaced).
  if (program && program.length > 0 && program.length % 8 === 0) {
    await atomicWrite(bpf, program, 0o600);
    return;
  }
  try {
    await o.compile(flat, bpf);
  } catch (err) {
    const what = f.config.profile === 'default' ? 'default.json' : (f.config.source ?? '(given inline)');
    throw new ValidationError(`seccomp profile ${what}: ${(err as Error).message}`, { seccompProfile: what });
  }
  await mkdir(o.cacheDir, { recursive: true, mode: 0o700 });
  await atomicWrite(cached, await readFile(bpf), 0o600);
}

/** build/corral-seccomp, next to the shim (scripts/build-native builds both). */
export function seccompCompilerPath(shim: string): string {
  return join(dirname(shim), 'corral-seccomp');
}

/** Run `corral-seccomp FLAT OUT`; rejects with its one-line error. */
export function compileSeccomp(shim: string, flat: string, out: string): Promise<void> {
  const compiler = seccompCompilerPath(shim);
  return new Promise((resolve, reject) => {
    execFile(compiler, [flat, out], { encoding: 'utf8' }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const line = stderr.trim().split('\n').pop()?.replace(/^corral-seccomp: /, '');
      reject(new Error(line || `${compiler}: ${err.message}`));
    });
  });
}

/** The `--seccomp` file of the init and exec stages (the compiled program), or undefined without a filter. */
export function seccompFilterFile(dir: string, c: { seccomp?: SeccompConfig }): string | undefined {
  return c.seccomp === undefined || c.seccomp.profile === 'unconfined' ? undefined : join(dir, SECCOMP_BPF_FILE);
}
