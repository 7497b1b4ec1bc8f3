import { spawn } from 'node:child_process';
import { CorralError } from '../errors.js';
import type { OciHook } from './spec.js';

/**
 * Run hooks in order with the container's state on stdin (runtime-spec config.md "POSIX-platform
 * Hooks"): path, args (args[0] is argv[0]), env exactly as given, timeout in seconds. The first
 * failure stops the rest and is the error.
 */
export async function runHooks(kind: string, hooks: readonly OciHook[] | undefined, state: Record<string, unknown>): Promise<void> {
  for (const h of hooks ?? []) await runHook(kind, h, JSON.stringify(state));
}

function runHook(kind: string, h: OciHook, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const [argv0, ...rest] = h.args && h.args.length > 0 ? h.args : [h.path];
    const child = spawn(h.path, rest, { argv0, env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])), stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()).length > 4096 && (stderr = stderr.slice(-4096)));
    const timer = h.timeout && h.timeout > 0 ? setTimeout(() => child.kill('SIGKILL'), h.timeout * 1000) : undefined;
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', (err) => reject(new CorralError('command_failed', `${kind} hook ${h.path}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal ? `killed by ${signal}${signal === 'SIGKILL' && h.timeout ? ` (timeout ${h.timeout} s)` : ''}` : `exit ${code}`;
      reject(new CorralError('command_failed', `${kind} hook ${h.path}: ${why}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    });
  });
}
