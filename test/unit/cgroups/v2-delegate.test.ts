import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LEAF, isRealRoot, vacate } from '../../../src/cgroups/v2/delegate.js';
import { V2CgroupManager, type V2ManagerOptions } from '../../../src/cgroups/v2/manager.js';
import { CgroupError } from '../../../src/errors.js';
import { fakeV2, v2KernelWrite, type FakeCgroupfs } from './fake-cgroupfs.js';

/** Device programs attached (the shim's part, recorded). */
const attached: { dir: string; rules: string[] }[] = [];

// Control-file writes go through a fake kernel (fake-cgroupfs.ts v2KernelWrite): subtree_control
// is refused with EBUSY while a non-root cgroup holds processes, a pid written to cgroup.procs
// leaves its old cgroup, a missing control file is ENOENT; mkdir makes a cgroup's control files.
// `before` lets a test act first (a fork racing the move, an exit).
const io = vi.hoisted(() => ({
  writes: [] as { path: string; data: string; result: string }[],
  root: undefined as string | undefined,
  before: undefined as ((path: string, data: string) => NodeJS.ErrnoException | undefined) | undefined,
}));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const { v2KernelWrite: kernel } = await import('./fake-cgroupfs.js');
  const { withKernelMkdir } = await import('./recorded-writes.js');
  const writeFile: typeof fs.writeFile = async (path, data, options) => {
    if (io.root === undefined) return fs.writeFile(path, data, options);
    const err = io.before?.(String(path), String(data)) ?? kernel(io.root, String(path), String(data));
    io.writes.push({ path: String(path), data: String(data), result: err === 'handled' || err === undefined ? 'ok' : String(err.code) });
    if (err === 'handled') return;
    if (err) throw err;
    return fs.writeFile(path, data, options);
  };
  const mkdir = withKernelMkdir(fs);
  return { ...fs, writeFile, mkdir, default: { ...fs, writeFile, mkdir } };
});

const SELF = 8;
const ALL = ['cpuset', 'cpu', 'io', 'memory', 'pids'];
let fake: FakeCgroupfs;
let proc: string;
let logs: string[];

async function setup(opts: { namespaceRoot: boolean; procs: number[] }): Promise<void> {
  fake = await fakeV2(ALL.join(' '), opts);
  io.root = fake.root;
}

beforeEach(async () => {
  logs = [];
  io.writes.length = 0;
  io.before = undefined;
  io.root = undefined;
  // A fake /proc with the names the log reports.
  proc = await mkdtemp(join(tmpdir(), 'corral-fakeproc-'));
  for (const [pid, comm] of [[1, 'sleep'], [7, 'sh'], [SELF, 'node']] as const) {
    mkdirSync(join(proc, String(pid)));
    writeFileSync(join(proc, String(pid), 'comm'), `${comm}\n`);
  }
});
afterEach(async () => {
  io.root = undefined;
  await fake?.cleanup();
  await rm(proc, { recursive: true, force: true });
});

function manager(extra: Partial<V2ManagerOptions> = {}): V2CgroupManager {
  return new V2CgroupManager({
    root: fake.root,
    parent: 'corral',
    rmdir: fake.rmdir,
    log: (s) => logs.push(s),
    sendSignal: () => {
      throw new Error('no signals in unit tests');
    },
    attachDevices: async (dir, rules) => void attached.push({ dir, rules: [...rules] }),
    selfPid: SELF,
    procDir: proc,
    ...extra,
  });
}

const exists = (p: string) => stat(p).then(() => true, () => false);
const procs = (dir: string) => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
const words = (file: string) => readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);

describe('the no-internal-process rule (privileged Docker layout)', () => {
  it('tells the real root (no cgroup.type) from a cgroup namespace root', async () => {
    await setup({ namespaceRoot: false, procs: [1] });
    expect(await isRealRoot(fake.root)).toBe(true);
    await fake.cleanup();
    await setup({ namespaceRoot: true, procs: [1] });
    expect(await isRealRoot(fake.root)).toBe(false);
  });

  it('moves every process of a namespace root into init after EBUSY, logs them, and enables every controller', async () => {
    await setup({ namespaceRoot: true, procs: [1, 7, SELF] });
    const m = manager();
    await m.ensureParent();
    expect(procs(fake.root)).toEqual([]);
    expect(procs(join(fake.root, LEAF))).toEqual([1, 7, SELF]);
    expect(words(join(fake.root, 'cgroup.subtree_control'))).toEqual(ALL);
    expect(words(join(fake.root, 'corral', 'cgroup.subtree_control'))).toEqual(ALL);
    expect(m.controllers()).toEqual({ available: ALL, missing: [] });
    expect(logs).toEqual([
      `moved 3 processes out of ${fake.root} into the leaf ${fake.root}/init: 1 (sleep), 7 (sh), 8 (node) (corrald); ` +
        'cgroup v2 enables controllers for children only in a cgroup without processes of its own',
    ]);
    // Only after the kernel said EBUSY: the first write was refused, then the moves, then the retry.
    // One write for the whole set: threaded controllers (cpuset, cpu, pids) alone would have been
    // allowed and made the namespace root a thread root, where memory and io fail (EOPNOTSUPP).
    expect(io.writes.slice(0, 5).map((w) => `${w.path.slice(fake.root.length)} ${w.data} ${w.result}`)).toEqual([
      '/cgroup.subtree_control +cpuset +cpu +io +memory +pids EBUSY',
      '/init/cgroup.procs 1 ok',
      '/init/cgroup.procs 7 ok',
      '/init/cgroup.procs 8 ok',
      '/cgroup.subtree_control +cpuset +cpu +io +memory +pids ok',
    ]);
    // init is not a container, and the second start finds nothing to do.
    await m.create('c1');
    expect(await m.list()).toEqual(['c1']);
    io.writes.length = 0;
    await m.ensureParent();
    expect(io.writes).toEqual([]);
  });

  it('never moves anything out of the real root, which is exempt', async () => {
    await setup({ namespaceRoot: false, procs: [1, 7, SELF] });
    const m = manager();
    await m.create('c1');
    expect(procs(fake.root)).toEqual([1, 7, SELF]);
    expect(await exists(join(fake.root, LEAF))).toBe(false);
    expect(m.controllers().missing).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('moves nothing when the kernel refuses for another reason than EBUSY', async () => {
    await setup({ namespaceRoot: true, procs: [1, SELF] });
    io.before = (path) =>
      path.endsWith('/cgroup.subtree_control') ? Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' }) : undefined;
    const m = manager();
    await m.ensureParent();
    expect(procs(fake.root)).toEqual([1, SELF]);
    expect(await exists(join(fake.root, LEAF))).toBe(false);
    expect(m.controllers().missing).toEqual(['cpu', 'memory', 'pids', 'cpuset', 'io']);
    expect(logs[0]).toBe(`controller cpuset not enabled for children of ${fake.root}: Invalid argument (EINVAL)`);
  });

  it('moves processes forked during the move too, and skips pids that exited', async () => {
    await setup({ namespaceRoot: true, procs: [1, 5, 7] });
    io.before = (path, data) => {
      const rootProcs = join(fake.root, 'cgroup.procs');
      // 7 forks 9 just before it moves: the child stays behind in the root.
      if (path === join(fake.root, LEAF, 'cgroup.procs') && data === '7') writeFileSync(rootProcs, readFileSync(rootProcs, 'utf8') + '9\n');
      // 5 exits before it can be moved.
      if (path === join(fake.root, LEAF, 'cgroup.procs') && data === '5') {
        writeFileSync(rootProcs, readFileSync(rootProcs, 'utf8').replace(/^5\n/m, ''));
        return Object.assign(new Error('ESRCH: no such process, write'), { code: 'ESRCH' });
      }
      return undefined;
    };
    const m = manager();
    await m.ensureParent();
    expect(procs(fake.root)).toEqual([]);
    expect(procs(join(fake.root, LEAF))).toEqual([1, 7, 9]);
    expect(logs).toEqual([expect.stringMatching(/^moved 3 processes out of .* into the leaf .*\/init: 1 \(sleep\), 7 \(sh\), 9; /)]);
    expect(m.controllers().missing).toEqual([]);
  });

  it("moves corrald alone out of a cgroup of Corral's own subtree, which then lists only containers", async () => {
    await setup({ namespaceRoot: false, procs: [1] });
    fake.mkcg(join(fake.root, 'corral'));
    writeFileSync(join(fake.root, 'corral', 'cgroup.procs'), `${SELF}\n`);
    const m = manager();
    await m.create('c1');
    expect(procs(join(fake.root, 'corral'))).toEqual([]);
    expect(procs(join(fake.root, 'corral', LEAF))).toEqual([SELF]);
    expect(logs).toEqual([expect.stringMatching(new RegExp(`^moved 1 process out of ${fake.root}/corral into the leaf ${fake.root}/corral/init: 8 \\(node\\) \\(corrald\\); `))]);
    expect(await m.list()).toEqual(['c1']);
    await m.remove('c1');
    // corrald still in init: the parent cannot go; once it has left, both go.
    await expect(m.removeParent()).rejects.toThrow(/init: .*EBUSY/);
    writeFileSync(join(fake.root, 'corral', LEAF, 'cgroup.procs'), '');
    await m.removeParent();
    expect(await exists(join(fake.root, 'corral'))).toBe(false);
  });

  it("refuses someone else's processes in Corral's subtree, naming them, and moves nothing (not even corrald)", async () => {
    await setup({ namespaceRoot: false, procs: [1] });
    fake.mkcg(join(fake.root, 'corral'));
    writeFileSync(join(fake.root, 'corral', 'cgroup.procs'), `${SELF}\n4242\n`);
    const err = await manager().create('c1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toMatch(new RegExp(`^enable controllers in ${fake.root}/corral: it holds processes \\(4242\\)`));
    expect(procs(join(fake.root, 'corral'))).toEqual([SELF, 4242]);
    expect(await exists(join(fake.root, 'corral', LEAF))).toBe(false);
  });

  it('vacate() gives up after a few rounds, naming what is left (a fork loop faster than the move)', async () => {
    await setup({ namespaceRoot: true, procs: [100] });
    let next = 100;
    io.before = (path) => {
      // Every move leaves a new child behind in the root.
      if (path.endsWith(`/${LEAF}/cgroup.procs`)) writeFileSync(join(fake.root, 'cgroup.procs'), `${next}\n${++next}\n`);
      return undefined;
    };
    const err = await vacate(fake.root, { move: 'everyone', selfPid: SELF, log: (s) => logs.push(s), procDir: proc }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toBe(
      `enable controllers in ${fake.root}: it holds processes (105); cgroup v2 allows controllers only for cgroups without processes ` +
        'of their own: move them into a leaf cgroup (run corrald under a delegated unit)',
    );
    expect(procs(join(fake.root, LEAF))).toEqual([100, 101, 102, 103, 104]);
  });
});
