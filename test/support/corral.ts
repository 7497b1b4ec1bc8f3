import { inject } from 'vitest';
import { corralWith, type CliResult, type TestInstallation } from './installation.js';

export * from './installation.js';

/** The installation the global setup started. */
export function installation(): TestInstallation {
  return inject('corral');
}

export function corral(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return corralWith(installation(), args, opts);
}

/** `corral run --rm busybox sh -c SCRIPT` and its stdout; throws with stderr when it fails. */
export async function sh(script: string, extra: string[] = []): Promise<string> {
  const r = await corral(['run', '--rm', ...extra, 'busybox', 'sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

