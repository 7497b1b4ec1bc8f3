import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCgroupManager, parseCgroupMounts } from '../../src/cgroups/detect.js';
import type { CgroupManager } from '../../src/cgroups/manager.js';
import { V2_USED_CONTROLLERS } from '../../src/cgroups/v2/manager.js';
import { writeCgroupFile } from '../../src/cgroups/write.js';
import { DEFAULT_PATHS } from '../../src/config.js';

/**
 * Proves the VM tier: a pure cgroup v2 hierarchy on Debian's stock kernel, and Corral's v2 driver
 * on it, in a parent of the test's own (`corral-vmtest-<pid>`).
 */
const ROOT = '/sys/fs/cgroup';
const parent = `corral-vmtest-${process.pid}`;
const id = 'c-vm';
const SHIM = join(process.cwd(), 'build', 'corral-shim');
const exists = (p: string) => stat(p).then(() => true, () => false);
const words = async (p: string) => (await readFile(p, 'utf8')).trim().split(/\s+/).filter(Boolean);

describe('the VM', () => {
  it('runs the stock kernel with cgroup2 mounted at the root, every controller Corral uses available', async () => {
    expect(release()).toBe(process.env.CORRAL_VM_KVER);
    expect(parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8'), ROOT).mode).toBe('v2');
    const controllers = await words(join(ROOT, 'cgroup.controllers'));
    expect(controllers).toEqual(expect.arrayContaining(['cpu', 'memory', 'pids', 'cpuset', 'io']));
    expect(await words(join(ROOT, 'cgroup.subtree_control'))).toEqual(expect.arrayContaining(controllers));
  });

  it('gives Corral a state root on a tmpfs (overlayfs takes no upper dir on the overlay root)', async () => {
    const state = process.env.CORRAL_VM_STATE;
    expect(state).toBeTruthy();
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' '));
    expect(mounts.find((m) => m[1] === state)?.[2]).toBe('tmpfs');
  });
});

describe(`the v2 cgroup driver (parent ${parent})`, () => {
  let m: CgroupManager;
  let sleeper: ChildProcess | undefined;
  const warnings: string[] = [];

  beforeAll(async () => {
    m = await createCgroupManager({ ...DEFAULT_PATHS, cgroupParent: parent }, { log: (s) => warnings.push(s), shim: SHIM });
  });

  afterAll(async () => {
    if (sleeper?.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
    if (!m) return;
    await m.kill(id).catch((e: unknown) => console.warn(`cleanup kill: ${String(e)}`));
    await m.remove(id).catch((e: unknown) => console.warn(`cleanup remove: ${String(e)}`));
    await m.removeParent().catch((e: unknown) => console.warn(`cleanup removeParent: ${String(e)}`));
  });

  it('is the one detected, and hands every used controller down to its parent', async () => {
    expect(m.driver).toBe('v2');
    await m.ensureParent();
    expect(warnings).toEqual([]);
    expect(m.controllers().missing).toEqual([]);
    expect(await words(join(ROOT, parent, 'cgroup.subtree_control'))).toEqual(expect.arrayContaining([...V2_USED_CONTROLLERS]));
  });

  it('creates the container cgroup with those controllers, handed down to its processes\' child', async () => {
    const devices = await m.create(id);
    await m.create(id); // idempotent
    expect(m.paths(id)).toEqual([join(ROOT, parent, id)]);
    expect(m.processPaths(id)).toEqual([join(ROOT, parent, id, 'payload')]);
    expect(await m.list()).toEqual([id]);
    const dir = m.paths(id)[0]!;
    expect(await words(join(dir, 'cgroup.controllers'))).toEqual(expect.arrayContaining([...V2_USED_CONTROLLERS]));
    expect(await words(join(dir, 'cgroup.subtree_control'))).toEqual(expect.arrayContaining([...V2_USED_CONTROLLERS]));
    for (const f of ['memory.max', 'cpu.max', 'pids.max', 'cpuset.cpus', 'io.max', 'cgroup.kill']) {
      expect(await exists(join(dir, f)), f).toBe(true);
      expect(await exists(join(dir, 'payload', f)), `payload/${f}`).toBe(true);
    }
    expect(devices).toEqual([expect.objectContaining({ limit: 'devices', file: dir })]);
  });

  it('lets a process in the child open only the allowed devices (the BPF device program)', () => {
    const script = `echo $$ > ${m.procsFiles(id)[0]} || exit 9; echo x > /dev/null && echo null-ok; head -c 4 /dev/urandom | wc -c; head -c 1 /dev/kmsg 2>&1 >/dev/null || echo kmsg-refused`;
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('null-ok');
    expect(r.stdout).toMatch(/^4$/m);
    // /dev/kmsg (c 1:11) exists on the VM's devtmpfs and is not in the allow-list.
    expect(r.stdout).toMatch(/\/dev\/kmsg.*Operation not permitted/);
    expect(r.stdout).toContain('kmsg-refused');
  });

  it('moves a process in through procsFiles and sees it in pids()', async () => {
    sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
    const pid = sleeper.pid!;
    expect(m.procsFiles(id)).toEqual([join(ROOT, parent, id, 'payload', 'cgroup.procs')]);
    for (const file of m.procsFiles(id)) await writeCgroupFile(file, pid);
    expect(await m.pids(id)).toEqual([pid]);
    expect((await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim()).toBe(`0::/${parent}/${id}/payload`);
  });

  it('kills every process in the cgroup (cgroup.kill)', async () => {
    const exited = new Promise<NodeJS.Signals | null>((r) => sleeper!.once('exit', (_c, s) => r(s)));
    await m.kill(id);
    expect(await exited).toBe('SIGKILL');
    expect(await m.pids(id)).toEqual([]);
  });

  it('removes the cgroup, idempotently, then its empty parent', async () => {
    await m.remove(id);
    await m.remove(id);
    expect(await exists(join(ROOT, parent, id))).toBe(false);
    expect(await m.list()).toEqual([]);
    await m.removeParent();
    expect(await exists(join(ROOT, parent))).toBe(false);
  });
});
