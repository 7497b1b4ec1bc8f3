#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CorralError, ValidationError } from '../errors.js';
import { shimPath } from '../runtime/shim.js';
import { packageRoot } from '../util/package-root.js';
import { bool, parseFlags, str } from './args.js';
import { logLine, type Context } from './context.js';
import { DEFAULT_ROOT, OCI_VERSION } from './state.js';

/**
 * corral-oci: an OCI runtime with runc's command line (docs/oci.md), driven by podman (conmon),
 * containerd's runc shim or by hand. Each call is short-lived; the container's process is left to
 * the caller's subreaper, and what a later call needs is in <root>/<id>.
 */

const GLOBAL = {
  bool: ['systemd-cgroup', 'debug', 'version', 'help', 'no-pivot'],
  value: ['root', 'log', 'log-format', 'criu', 'rootless'],
  alias: { v: 'version', h: 'help' },
};

const USAGE = `usage: corral-oci [--root DIR] [--log FILE] [--log-format text|json] COMMAND [ARGS]
commands: create start state kill delete exec ps pause resume update events features spec list run
see docs/oci.md`;

function version(): string {
  const pkg = JSON.parse(readFileSync(resolve(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return `corral-oci version ${pkg.version}\nspec: ${OCI_VERSION}\n`;
}

async function main(argv: string[]): Promise<number> {
  const g = parseFlags(argv, GLOBAL, 'corral-oci');
  const logFile = str(g, 'log');
  const logJson = str(g, 'log-format') === 'json';
  const [cmd, ...rest] = g.rest;
  const ctx: Context = {
    root: resolve(str(g, 'root') ?? DEFAULT_ROOT),
    shim: '',
    logFile,
    logJson,
    warn: (m) => logLine(logFile, logJson, 'warning', m),
    out: (t) => process.stdout.write(t),
  };
  try {
    if (bool(g, 'version') || cmd === 'version') return ctx.out(version()), 0;
    if (bool(g, 'help') || !cmd || cmd === 'help') return ctx.out(`${USAGE}\n`), cmd ? 0 : 2;
    if (bool(g, 'systemd-cgroup')) {
      throw new ValidationError('--systemd-cgroup: not supported; corral-oci manages cgroupfs paths itself (set cgroup_manager = "cgroupfs" in podman, SystemdCgroup = false in containerd)');
    }
    const needsShim = ['create', 'run', 'exec', 'update'].includes(cmd);
    if (needsShim) ctx.shim = shimPath();
    // Each call is a process of its own (podman makes several per container): load only what the verb uses.
    const lifecycle = (): Promise<typeof import('./commands/lifecycle.js')> => import('./commands/lifecycle.js');
    const info = (): Promise<typeof import('./commands/info.js')> => import('./commands/info.js');
    const create = async (c: Context, a: string[]): Promise<number> => (await import('./commands/create.js')).create(c, a);
    switch (cmd) {
      case 'create':
        return await create(ctx, rest);
      case 'run': {
        // run -d: create then start (a foreground run would need us to stay the parent).
        const p = parseFlags(rest, { bool: ['detach', 'no-pivot', 'no-new-keyring'], value: ['bundle', 'pid-file', 'console-socket', 'preserve-fds'], alias: { b: 'bundle', d: 'detach' } }, 'run');
        if (!bool(p, 'detach')) throw new ValidationError('run: only run --detach is supported; use create and start');
        const id = p.rest[0] ?? '';
        await create(ctx, rest.filter((a) => a !== '-d' && a !== '--detach'));
        return await (await lifecycle()).start(ctx, [id]);
      }
      case 'start':
        return await (await lifecycle()).start(ctx, rest);
      case 'state':
        return (await lifecycle()).state(ctx, rest);
      case 'kill':
        return (await lifecycle()).kill(ctx, rest);
      case 'delete':
        return await (await lifecycle()).del(ctx, rest);
      case 'exec':
        return await (await import('./commands/exec.js')).exec(ctx, rest);
      case 'ps':
        return await (await info()).ps(ctx, rest);
      case 'pause':
        return await (await lifecycle()).pauseResume(true)(ctx, rest);
      case 'resume':
        return await (await lifecycle()).pauseResume(false)(ctx, rest);
      case 'update':
        return await (await info()).update(ctx, rest, () => readFileSync(0, 'utf8'));
      case 'events':
        return await (await info()).events(ctx, rest);
      case 'features':
        return (await info()).features(ctx);
      case 'spec':
        return (await info()).specCmd(ctx, rest);
      case 'list':
        return (await info()).listCmd(ctx, rest);
      default:
        throw new ValidationError(`unknown command ${cmd}\n${USAGE}`);
    }
  } catch (err) {
    const msg = err instanceof CorralError ? err.message : err instanceof Error ? err.message : String(err);
    logLine(logFile, logJson, 'error', msg);
    if (logFile) process.stderr.write(`corral-oci: ${msg}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`corral-oci: ${String(err)}\n`);
    process.exit(1);
  },
);
