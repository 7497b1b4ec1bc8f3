import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
  const profile = parseSeccompProfile(text, custom ? (source ?? '(given inline)') : 'default.json');
  const filter = renderFlat(resolveSeccomp(profile, hostTarget(capabilities)));
  return {
    config: { profile: custom ? 'custom' : 'default', source: custom ? source : null, sha256: createHash('sha256').update(text).digest('hex') },
    profile: text,
    filter,
  };
}

/**
 * Written into the container's directory before its config is committed; `compile` is
 * compileSeccomp (a seam for tests). corral-seccomp checks the flat file strictly too: what it or
 * libseccomp refuses is reported as an error in the profile.
 */
export async function writeSeccompFiles(dir: string, f: SeccompFiles, compile: (flat: string, out: string) => Promise<void>): Promise<void> {
  if (f.profile === null || f.filter === null) return;
  await atomicWrite(join(dir, SECCOMP_PROFILE_FILE), f.profile, 0o600);
  await atomicWrite(join(dir, SECCOMP_FLAT_FILE), f.filter, 0o600);
  try {
    await compile(join(dir, SECCOMP_FLAT_FILE), join(dir, SECCOMP_BPF_FILE));
  } catch (err) {
    const what = f.config.profile === 'default' ? 'default.json' : (f.config.source ?? '(given inline)');
    throw new ValidationError(`seccomp profile ${what}: ${(err as Error).message}`, { seccompProfile: what });
  }
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
