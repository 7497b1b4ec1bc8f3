import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCgroupManager } from '../../src/cgroups/detect.js';
import type { CgroupManager } from '../../src/cgroups/manager.js';
import { writeCgroupFile } from '../../src/cgroups/write.js';
import { DEFAULT_PATHS } from '../../src/config.js';

/**
 * Real cgroups on this host (v1 hierarchies on the development machine, cgroup2 in the VM tier),
 * in a parent of the test's own: `corral-cgtest-<pid>`. Needs root.
 */
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('\n*** SKIPPED test/integration/cgroups.test.ts: creating cgroups needs root (run as root) ***\n');

const parent = `corral-cgtest-${process.pid}`;
const id = 'c-integration';
const exists = (p: string) => stat(p).then(() => true, () => false);

describe.skipIf(!isRoot)(`cgroup driver on this host (parent ${parent})`, () => {
  let m: CgroupManager;
  let sleeper: ChildProcess | undefined;

  beforeAll(async () => {
    m = await createCgroupManager({ ...DEFAULT_PATHS, cgroupParent: parent }, { log: (s) => console.warn(s) });
  });

  afterAll(async () => {
    if (sleeper?.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
    if (!m) return;
    await m.kill(id).catch((e: unknown) => console.warn(`cleanup kill: ${String(e)}`));
    await m.remove(id).catch((e: unknown) => console.warn(`cleanup remove: ${String(e)}`));
    await m.removeParent().catch((e: unknown) => console.warn(`cleanup removeParent: ${String(e)}`));
  });

  it('creates the container cgroup in every used hierarchy', async () => {
    await m.create(id);
    const paths = m.paths(id);
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) {
      expect(p).toContain(`/${parent}/${id}`);
      expect(await exists(p)).toBe(true);
    }
    expect(await m.list()).toEqual([id]);
    const cpuset = paths.find((p) => p.includes('/cpuset/'));
    if (m.driver === 'v1' && cpuset) expect((await readFile(`${cpuset}/cpuset.cpus`, 'utf8')).trim()).not.toBe('');
  });

  it('names value and path when the kernel refuses a write', async () => {
    const cpuset = m.paths(id).find((p) => p.includes('/cpuset/'));
    if (!cpuset) return;
    await expect(writeCgroupFile(`${cpuset}/cpuset.cpus`, 'garbage')).rejects.toThrow(
      `write garbage to ${cpuset}/cpuset.cpus: Invalid argument (EINVAL)`,
    );
  });

  it('moves a process in through procsFiles and sees it in pids()', async () => {
    sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
    const pid = sleeper.pid!;
    for (const file of m.procsFiles(id)) await writeCgroupFile(file, pid);
    expect(await m.pids(id)).toEqual([pid]);
    const own = await readFile(`/proc/${pid}/cgroup`, 'utf8');
    expect(own).toContain(`/${parent}/${id}`);
  });

  it('kills every process in the cgroup', async () => {
    const exited = new Promise<NodeJS.Signals | null>((r) => sleeper!.once('exit', (_c, s) => r(s)));
    await m.kill(id);
    expect(await m.pids(id)).toEqual([]);
    expect(await exited).toBe('SIGKILL');
  });

  it('removes the cgroup, idempotently, and keeps the parent', async () => {
    await m.remove(id);
    await m.remove(id);
    for (const p of m.paths(id)) expect(await exists(p)).toBe(false);
    expect(await m.list()).toEqual([]);
  });
});
