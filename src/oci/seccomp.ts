import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSeccomp } from '../security/seccomp.js';
import { parseSeccompProfile } from '../security/seccomp-profile.js';
import { hostTarget, renderFlat, resolveSeccomp } from '../security/seccomp-resolve.js';
import type { OciSeccomp } from './spec.js';

/**
 * linux.seccomp → the flat profile corral-seccomp compiles (docs/shim.md). The OCI format is
 * Docker's without includes/excludes, so Corral's strict parser reads it; filter flags
 * (SECCOMP_FILTER_FLAG_*) are not supported by the shim's loader and are dropped with the
 * caller told, as is a notify listener (refused: it would need a seccomp agent).
 */
export function ociSeccompFlat(s: OciSeccomp, capabilities: readonly string[]): { flat: string; dropped: string[] } {
  const { flags, ...rest } = s;
  const profile = parseSeccompProfile(JSON.stringify(rest), 'linux.seccomp');
  const caps = capabilities.map((c) => c.replace(/^CAP_/, ''));
  return { flat: renderFlat(resolveSeccomp(profile, hostTarget(caps))), dropped: flags ?? [] };
}

/** Compile into DIR/seccomp.bpf; returns its path. */
export async function compileOciSeccomp(shim: string, dir: string, s: OciSeccomp, capabilities: readonly string[]): Promise<{ file: string; dropped: string[] }> {
  const { flat, dropped } = ociSeccompFlat(s, capabilities);
  const flatFile = join(dir, 'seccomp.flat');
  writeFileSync(flatFile, flat);
  const file = join(dir, 'seccomp.bpf');
  await compileSeccomp(shim, flatFile, file);
  return { file, dropped };
}
