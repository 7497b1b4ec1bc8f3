import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { VersionInfo } from '../api/types.js';
import { daemonLogPath, pidFilePath, socketPath, type CorralPaths } from '../config.js';
import { CorralError } from '../errors.js';
import { CorralClient } from './client.js';
import { UnreachableError } from './http.js';
import { checkRoots, type AskedRoot } from './roots.js';

const START_TIMEOUT_MS = 120_000;

export const NEEDS_ROOT = 'permission denied: corral needs root (try: sudo corral ...)';

export interface ConnectOptions {
  /** Defaults to `process.getuid() === 0`. */
  isRoot?: boolean;
  /** Start corrald when it is not running (root only). Default true. */
  autoStart?: boolean;
  /** corrald's entry point; default `dist/daemon/main.js` next to this file's compiled location. */
  daemonEntry?: string;
  /**
   * How long to wait for a started corrald to answer; default 2 minutes. It answers after its
   * start-up work (exits collected, networks repaired), which on a busy host or with many
   * containers takes longer than a fixed few seconds; a corrald that dies ends the wait at once.
   */
  startTimeoutMs?: number;
  /**
   * Roots the user set explicitly (flag or CORRAL_*): the corrald reached must serve them, checked
   * on the version answer connect asks for anyway (no extra request).
   */
  asked?: readonly AskedRoot[];
}

/**
 * A client whose daemon answers. When there is no socket or nobody listens on it, root starts
 * corrald (detached, logging to `<runRoot>/corrald.log`) and waits for it; anyone else is told
 * that corral needs root.
 */
export async function connect(paths: CorralPaths, opts: ConnectOptions = {}): Promise<CorralClient> {
  const client = new CorralClient(socketPath(paths));
  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  const answered = (info: VersionInfo): CorralClient => {
    checkRoots(info, opts.asked ?? [], client.socketPath);
    return client;
  };
  const first = await ping(client);
  if (typeof first !== 'string') return answered(first);
  const errno = first;
  if (errno !== 'ENOENT' && errno !== 'ECONNREFUSED' && errno !== 'EACCES') {
    return answered(await client.version()); // throws the real error
  }
  if (!isRoot) throw new CorralError('permission', NEEDS_ROOT);
  if (errno === 'EACCES' || opts.autoStart === false) return answered(await client.version());
  // Ours serves the roots asked for; another CLI's that won the start race may not.
  return answered(await startDaemon(paths, client, opts));
}

/** corrald's answer to GET /v1/version; the errno when it cannot be reached. */
async function ping(client: CorralClient, timeoutMs?: number): Promise<VersionInfo | string> {
  try {
    return await client.version(timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined);
  } catch (err) {
    if (err instanceof UnreachableError) return err.errno ?? 'EUNKNOWN';
    if (err instanceof CorralError && err.code === 'unavailable') return 'ETIMEDOUT';
    throw err;
  }
}

export function defaultDaemonEntry(): string {
  return fileURLToPath(new URL('../daemon/main.js', import.meta.url));
}

async function startDaemon(paths: CorralPaths, client: CorralClient, opts: ConnectOptions): Promise<VersionInfo> {
  const entry = opts.daemonEntry ?? defaultDaemonEntry();
  const log = daemonLogPath(paths);
  if (!existsSync(entry)) {
    throw new CorralError('unavailable', `corrald is not running and ${entry} does not exist (run npm run build)`);
  }
  mkdirSync(paths.runRoot, { recursive: true, mode: 0o700 });
  mkdirSync(dirname(log), { recursive: true, mode: 0o750 });
  const fd = openSync(log, 'a', 0o600);
  let exited: number | string | null = null;
  let childPid: number | undefined;
  try {
    const child = spawn(
      process.execPath,
      [entry, '--data-root', paths.dataRoot, '--run-root', paths.runRoot, '--cgroup-parent', paths.cgroupParent, '--bridge-prefix', paths.bridgePrefix],
      { detached: true, stdio: ['ignore', fd, fd], env: process.env },
    );
    childPid = child.pid;
    child.once('exit', (code, signal) => (exited = code ?? signal ?? 'unknown'));
    child.once('error', (err) => (exited = err.message));
    child.unref();
  } finally {
    closeSync(fd);
  }

  const deadline = Date.now() + (opts.startTimeoutMs ?? START_TIMEOUT_MS);
  for (;;) {
    await sleep(100);
    // A second corral may have started corrald first; ours then exits, but the socket answers.
    const answer = await ping(client, 1000);
    if (typeof answer !== 'string') return answer;
    // Ours lost the race to the pid file: the corrald that won may still be starting up
    // (collecting exits, repairing networks); wait for it rather than fail.
    if (exited !== null && !otherDaemonAlive(paths, childPid)) {
      throw new CorralError('unavailable', `corrald exited during start-up (${exited})${lastLine(log)}; see ${log}`);
    }
    if (Date.now() > deadline) {
      throw new CorralError('unavailable', `corrald did not answer on ${client.socketPath} within ${Math.round((opts.startTimeoutMs ?? START_TIMEOUT_MS) / 1000)}s${lastLine(log)}; see ${log}`);
    }
  }
}

/** Whether the pid file names a live process other than `ours` (a corrald that won the start race). */
function otherDaemonAlive(paths: CorralPaths, ours: number | undefined): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFilePath(paths), 'utf8').split(' ')[0]);
  } catch {
    return false;
  }
  if (!pid || pid === ours) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The most telling line of the daemon's log: its last error line, else its last line. */
function lastLine(file: string): string {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim());
  } catch {
    return '';
  }
  const useful = lines.filter((l) => l !== '' && !/^at |^Node\.js v\d|^\^+$|^[{}]$/.test(l));
  const errors = useful.filter((l) => /^(\w*Error\b|error\b|corrald:)/i.test(l));
  const line = errors[errors.length - 1] ?? useful[useful.length - 1];
  return line ? `: ${line.slice(0, 200)}` : '';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
