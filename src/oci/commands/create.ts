import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ValidationError } from '../../errors.js';
import { bool, parseFlags, str } from '../args.js';
import { cgroupSet, createCgroups, deviceRules, removeCgroups, shimDevices } from '../cgroups.js';
import type { Context } from '../context.js';
import { runHooks } from '../hooks.js';
import { compileOciSeccomp } from '../seccomp.js';
import { runShim } from '../shim.js';
import { loadSpec } from '../spec.js';
import { fifoPath, procStat, reserve, saveRecord, stateJson, type ContainerRecord } from '../state.js';
import { createArgs } from '../translate.js';

export const CREATE_FLAGS = {
  bool: ['no-pivot', 'no-new-keyring'],
  value: ['bundle', 'pid-file', 'console-socket', 'preserve-fds', 'notify-socket'],
  alias: { b: 'bundle' },
};

/** `create [--bundle B] [--pid-file F] [--console-socket S] ID`: the process waits on exec.fifo. */
export async function create(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, CREATE_FLAGS, 'create');
  const id = p.rest[0];
  const bundle = resolve(str(p, 'bundle') ?? '.');
  if (bool(p, 'no-pivot')) throw new ValidationError('create --no-pivot: not supported (pivot_root is always used)');
  if ((str(p, 'preserve-fds') ?? '0') !== '0') throw new ValidationError('create --preserve-fds: not supported yet');
  const spec = loadSpec(bundle);
  const dir = reserve(ctx.root, id ?? '');
  const record: ContainerRecord = {
    id: id!,
    pid: 0,
    pidStartTime: 0,
    bundle,
    rootfs: isAbsolute(spec.root!.path) ? spec.root!.path : join(bundle, spec.root!.path),
    created: new Date().toISOString(),
    annotations: spec.annotations ?? {},
    cgroupsPath: spec.linux?.cgroupsPath ?? `/corral-oci/${id}`,
    hooks: spec.hooks ?? {},
    seccomp: null,
  };
  const cgroups = cgroupSet(record.cgroupsPath);
  let made = false;
  try {
    if (spec.linux?.seccomp) {
      const s = await compileOciSeccomp(ctx.shim, dir, spec.linux.seccomp, spec.process?.capabilities?.bounding ?? []);
      if (s.dropped.length > 0) ctx.warn(`linux.seccomp.flags ${s.dropped.join(',')}: not supported, ignored`);
      record.seccomp = s.file;
    }
    made = true;
    const resources = { ...spec.linux?.resources, devices: deviceRules(spec.linux?.resources?.devices, spec.linux?.devices) };
    const procs = await createCgroups(cgroups, resources, shimDevices(ctx.shim));
    const consoleSocket = str(p, 'console-socket');
    if (spec.process?.terminal && !consoleSocket) throw new ValidationError('create: process.terminal needs --console-socket');
    const args = createArgs(spec, {
      bundle,
      execFifo: fifoPath(ctx.root, record.id),
      consoleSocket: consoleSocket ? resolve(consoleSocket) : undefined,
      cgroupProcs: procs,
      cgroupMounts: { v1: cgroups.v1, v2: cgroups.v2 },
      seccompFile: record.seccomp ?? undefined,
    });
    const run = await runShim(ctx.shim, 'oci-create', args);
    record.pid = run.pid;
    record.pidStartTime = procStat(run.pid)?.start ?? 0;
    saveRecord(ctx.root, record);
    // prestart (deprecated) and createRuntime run in the runtime's namespace once the container exists.
    const state = stateJson(record, 'created');
    try {
      await runHooks('prestart', spec.hooks?.prestart, state);
      await runHooks('createRuntime', spec.hooks?.createRuntime, state);
    } catch (err) {
      try {
        process.kill(record.pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
      throw err;
    }
    const pidFile = str(p, 'pid-file');
    if (pidFile) {
      writeFileSync(`${resolve(pidFile)}.tmp`, String(record.pid));
      renameSync(`${resolve(pidFile)}.tmp`, resolve(pidFile));
    }
    return 0;
  } catch (err) {
    if (made) await removeCgroups(cgroups).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
