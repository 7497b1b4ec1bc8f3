import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(ROOT, 'dist/cli/main.js');
export const DAEMON = join(ROOT, 'dist/daemon/main.js');
export const SHIM = join(ROOT, 'build/corral-shim');

export interface TestInstallation {
  dataRoot: string;
  runRoot: string;
  cgroupParent: string;
  /** Bridges and nftables tables `<prefix><n>` of the installation's own (default corral). */
  bridgePrefix?: string;
}

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export function envOf(inst: TestInstallation): Record<string, string> {
  // A short restart back-off (200 ms, doubling) for a corrald the CLI starts.
  return {
    CORRAL_DATA_ROOT: inst.dataRoot,
    CORRAL_RUN_ROOT: inst.runRoot,
    CORRAL_CGROUP_PARENT: inst.cgroupParent,
    CORRAL_RESTART_BACKOFF_BASE: '200ms',
    ...(inst.bridgePrefix ? { CORRAL_BRIDGE_PREFIX: inst.bridgePrefix } : {}),
  };
}

/** corrald's flags for an installation: its roots, cgroup parent and bridge prefix. */
export function daemonArgs(inst: TestInstallation): string[] {
  return ['--data-root', inst.dataRoot, '--run-root', inst.runRoot, '--cgroup-parent', inst.cgroupParent, ...(inst.bridgePrefix ? ['--bridge-prefix', inst.bridgePrefix] : [])];
}

/** A bridge prefix of this test run's own: `ci` + the pid in letters (prefixes must end with a letter). */
export function testBridgePrefix(pid = process.pid): string {
  let n = pid;
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `ci${s}`.slice(0, 10);
}

/** Runs the real CLI against one installation, as a user would. */
export async function corralWith(inst: TestInstallation, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [CLI, ...args], {
    env: envOf(inst),
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
    stripFinalNewline: false,
  });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

let counter = 0;
/** A container name unique to this test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

export async function waitForSocket(inst: TestInstallation, daemon: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const sock = join(inst.runRoot, 'corrald.sock');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null) throw new Error(`corrald exited with ${daemon.exitCode}; see ${join(inst.runRoot, 'corrald.log')}`);
    if (existsSync(sock)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`corrald did not listen on ${sock} within ${timeoutMs} ms`);
}
