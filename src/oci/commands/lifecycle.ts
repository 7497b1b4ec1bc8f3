import { constants, openSync, closeSync, rmSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { InvalidStateError } from '../../errors.js';
import { bool, parseFlags } from '../args.js';
import { cgroupPids, removeCgroups, setFrozen } from '../cgroups.js';
import type { Context } from '../context.js';
import { runHooks } from '../hooks.js';
import { alive, cgroupsOf, checkId, containerDir, fifoPath, loadRecord, stateJson, statusOf, type ContainerRecord } from '../state.js';
import { parseSignal } from '../signals.js';

/** `start ID`: open the exec fifo, which lets the waiting process go on to exec. */
export async function start(ctx: Context, argv: string[]): Promise<number> {
  const id = checkId(parseFlags(argv, {}, 'start').rest[0]);
  const r = loadRecord(ctx.root, id);
  const status = statusOf(ctx.root, r);
  if (status !== 'created') throw new InvalidStateError(`start ${id}: container is ${status}, not created`);
  const fifo = fifoPath(ctx.root, id);
  // The open blocks until the process opens its end; should it die first, our own write end
  // unblocks it (and the read below then sees no byte).
  const opening = open(fifo, 'r');
  let done = false;
  const watch = (async () => {
    for (let delay = 5; !done; delay = Math.min(delay * 2, 100)) {
      await new Promise((res) => setTimeout(res, delay));
      if (!done && !alive(r)) {
        try {
          closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          /* the reader went away meanwhile */
        }
        return;
      }
    }
  })();
  const fh = await opening;
  let got = '';
  try {
    const buf = Buffer.alloc(1);
    const { bytesRead } = await fh.read(buf, 0, 1, null);
    got = buf.subarray(0, bytesRead).toString();
  } finally {
    done = true;
    await fh.close();
    await watch;
  }
  unlinkSync(fifo);
  if (got !== '0') throw new InvalidStateError(`start ${id}: the container process exited before it was started`);
  try {
    await runHooks('poststart', r.hooks.poststart, stateJson(r, 'running'));
  } catch (err) {
    ctx.warn((err as Error).message);
  }
  return 0;
}

/** `state ID`: the spec's state JSON. */
export function state(ctx: Context, argv: string[]): number {
  const id = checkId(parseFlags(argv, {}, 'state').rest[0]);
  const r = loadRecord(ctx.root, id);
  ctx.out(`${JSON.stringify(stateJson(r, statusOf(ctx.root, r)), null, 2)}\n`);
  return 0;
}

/** `kill [--all] ID [SIGNAL]` (default SIGTERM). */
export function kill(ctx: Context, argv: string[]): number {
  const p = parseFlags(argv, { bool: ['all'], alias: { a: 'all' } }, 'kill');
  const id = checkId(p.rest[0]);
  const sig = parseSignal(p.rest[1] ?? 'SIGTERM');
  const r = loadRecord(ctx.root, id);
  const status = statusOf(ctx.root, r);
  if (status === 'stopped') throw new InvalidStateError(`kill ${id}: container is not running`);
  const pids = bool(p, 'all') ? cgroupPids(cgroupsOf(r)) : [r.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  return 0;
}

/** Wait for the process to be gone (or a zombie its parent has not reaped yet). */
async function untilDead(r: ContainerRecord): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let delay = 1; alive(r); delay = Math.min(delay * 2, 50)) {
    if (Date.now() > deadline) throw new InvalidStateError(`delete ${r.id}: pid ${r.pid} still alive 30 s after SIGKILL`);
    await new Promise((res) => setTimeout(res, delay));
  }
}

/** `delete [--force] ID`. A created container is deleted without --force, as runc does. */
export async function del(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { bool: ['force'], alias: { f: 'force' } }, 'delete');
  const id = checkId(p.rest[0]);
  let r: ContainerRecord;
  try {
    r = loadRecord(ctx.root, id);
  } catch (err) {
    // A create that died before its record leaves only the directory.
    if (bool(p, 'force')) {
      rmSync(containerDir(ctx.root, id), { recursive: true, force: true });
      return 0;
    }
    throw err;
  }
  const status = statusOf(ctx.root, r);
  if ((status === 'running' || status === 'paused') && !bool(p, 'force')) {
    throw new InvalidStateError(`delete ${id}: container is ${status}; stop it first or use --force`);
  }
  const cgroups = cgroupsOf(r);
  if (status !== 'stopped') {
    if (status === 'paused') await setFrozen(cgroups, false).catch(() => {});
    for (const pid of [r.pid, ...cgroupPids(cgroups)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await untilDead(r);
  }
  // Processes exec'd into a container without its own pid namespace may outlive PID 1.
  for (const pid of cgroupPids(cgroups)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await removeCgroups(cgroups);
  try {
    await runHooks('poststop', r.hooks.poststop, stateJson(r, 'stopped'));
  } catch (err) {
    ctx.warn((err as Error).message);
  }
  rmSync(containerDir(ctx.root, id), { recursive: true, force: true });
  return 0;
}

export function pauseResume(frozen: boolean): (ctx: Context, argv: string[]) => Promise<number> {
  return async (ctx, argv) => {
    const verb = frozen ? 'pause' : 'resume';
    const id = checkId(parseFlags(argv, {}, verb).rest[0]);
    const r = loadRecord(ctx.root, id);
    const status = statusOf(ctx.root, r);
    if (frozen && status !== 'running') throw new InvalidStateError(`pause ${id}: container is ${status}, not running`);
    if (!frozen && status !== 'paused') throw new InvalidStateError(`resume ${id}: container is ${status}, not paused`);
    await setFrozen(cgroupsOf(r), frozen);
    return 0;
  };
}
