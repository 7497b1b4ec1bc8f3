import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { corralWith, type CliResult, type TestInstallation } from './installation.js';

export * from './installation.js';

/** The installation the global setup started. */
export function installation(): TestInstallation {
  return inject('corral');
}

export function corral(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<CliResult> {
  return corralWith(installation(), args, opts);
}

/** `corral run --rm busybox sh -c SCRIPT` and its stdout; throws with stderr when it fails. */
export async function sh(script: string, extra: string[] = []): Promise<string> {
  const r = await corral(['run', '--rm', ...extra, 'busybox', 'sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}


export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `corral inspect NAME`, parsed. */
export async function inspect(name: string): Promise<any> {
  return JSON.parse((await corral(['inspect', name])).stdout)[0];
}

/** Polls `fn` until it returns something, or fails naming `what` after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(120);
  }
}

/** The pid the installation's corrald.pid names, if there is one. */
export function daemonPid(): number | undefined {
  const f = join(installation().runRoot, 'corrald.pid');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').split(' ')[0]) : undefined;
}

/** Waits (up to `ms`) until no process has `pid`. */
export async function waitGone(pid: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

/** SIGTERM the installation's corrald by its pid and wait until it is gone. */
export async function stopDaemon(): Promise<void> {
  const pid = daemonPid();
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  await waitGone(pid);
}
