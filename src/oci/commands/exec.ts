import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidStateError, ValidationError } from '../../errors.js';
import { bool, list, parseFlags, str } from '../args.js';
import type { Context } from '../context.js';
import { runShim } from '../shim.js';
import { loadProcess, type OciProcess } from '../spec.js';
import { cgroupsOf, checkId, loadRecord, statusOf } from '../state.js';
import { processArgs } from '../translate.js';

const FLAGS = {
  bool: ['detach', 'tty', 'no-new-privs', 'ignore-paused'],
  value: ['process', 'pid-file', 'console-socket', 'cwd', 'user', 'preserve-fds', 'process-label', 'apparmor', 'cgroup'],
  multi: ['env', 'cap', 'additional-gids'],
  alias: { p: 'process', d: 'detach', t: 'tty', e: 'env', u: 'user', c: 'cap', g: 'additional-gids' },
};

/** `exec --process F | ID CMD...`: a process in the container's namespaces and cgroups. */
export async function exec(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, FLAGS, 'exec');
  const id = checkId(p.rest[0]);
  const r = loadRecord(ctx.root, id);
  const status = statusOf(ctx.root, r);
  if (status !== 'running' && status !== 'created') throw new InvalidStateError(`exec ${id}: container is ${status}`);
  if ((str(p, 'preserve-fds') ?? '0') !== '0') throw new ValidationError('exec --preserve-fds: not supported yet');
  let proc: OciProcess;
  const file = str(p, 'process');
  if (file) proc = loadProcess(resolve(file));
  else {
    if (p.rest.length < 2) throw new ValidationError('exec: give --process FILE or a command after the container id');
    const [uid, gid] = (str(p, 'user') ?? '0:0').split(':');
    const caps = list(p, 'cap');
    proc = {
      args: p.rest.slice(1),
      env: list(p, 'env'),
      cwd: str(p, 'cwd') ?? '/',
      terminal: bool(p, 'tty'),
      user: { uid: Number(uid ?? 0), gid: Number(gid ?? 0), additionalGids: list(p, 'additional-gids').map(Number) },
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: bool(p, 'no-new-privs'),
    };
  }
  const consoleSocket = str(p, 'console-socket');
  const detach = bool(p, 'detach');
  const cg = cgroupsOf(r);
  const args = [
    '--pid', String(r.pid), '--pid-start', String(r.pidStartTime),
    ...cg.dirs.map((d) => ['--cgroup-procs', `${d}/cgroup.procs`]).flat(),
    ...(detach ? ['--detach'] : []),
    ...processArgs(proc, { consoleSocket: consoleSocket ? resolve(consoleSocket) : undefined, seccompFile: r.seccomp ?? undefined }),
    '--', ...proc.args!,
  ];
  const run = await runShim(ctx.shim, 'oci-exec', args);
  const pidFile = str(p, 'pid-file');
  if (pidFile) {
    writeFileSync(`${resolve(pidFile)}.tmp`, String(run.pid));
    renameSync(`${resolve(pidFile)}.tmp`, resolve(pidFile));
  }
  return detach ? 0 : await run.exited;
}
