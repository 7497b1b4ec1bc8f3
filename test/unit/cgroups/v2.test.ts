import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { V2CgroupManager, type V2ManagerOptions } from '../../../src/cgroups/v2/manager.js';
import { CgroupError } from '../../../src/errors.js';
import { fakeV2, type FakeCgroupfs } from './fake-cgroupfs.js';
import { io } from './recorded-writes.js';

/** Device programs attached (the shim's part, recorded). */
const attached: { dir: string; rules: string[] }[] = [];

vi.mock('node:fs/promises', (orig) => import('./recorded-writes.js').then((m) => m.recordWrites(orig)));

let fake: FakeCgroupfs;
let logs: string[];
beforeEach(async () => {
  fake = await fakeV2();
  logs = [];
  io.writes.length = 0;
  io.refuse = undefined;
});
afterEach(() => fake.cleanup());

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
    ...extra,
  });
}

const exists = (p: string) => stat(p).then(() => true, () => false);
const writesTo = (file: string) => io.writes.filter((w) => w.path === file).map((w) => w.data);

describe('V2CgroupManager', () => {
  it('enables every root controller in one write, in the root and in Corral parent', async () => {
    const m = manager();
    await m.ensureParent();
    const all = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];
    expect(writesTo(`${fake.root}/cgroup.subtree_control`)).toEqual([all.map((c) => `+${c}`).join(' ')]);
    expect(writesTo(`${fake.root}/corral/cgroup.subtree_control`)).toEqual([all.map((c) => `+${c}`).join(' ')]);
    expect(m.controllers()).toEqual({ available: all, missing: [] });
  });

  it('skips controllers already enabled', async () => {
    await writeFile(`${fake.root}/cgroup.subtree_control`, 'cpu memory\n');
    io.writes.length = 0;
    await manager().ensureParent();
    expect(writesTo(`${fake.root}/cgroup.subtree_control`)).toEqual(['+cpuset +io +hugetlb +pids +rdma +misc']);
  });

  it('logs a controller the kernel refuses and goes on with the others, one write each', async () => {
    // The kernel refuses a write naming cpu as a whole (realtime threads, say).
    io.refuse = (path, data) =>
      path === `${fake.root}/cgroup.subtree_control` && data.split(' ').includes('+cpu')
        ? Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' })
        : undefined;
    const m = manager();
    await m.ensureParent();
    expect(logs).toEqual([`controller cpu not enabled for children of ${fake.root}: Invalid argument (EINVAL)`]);
    expect(writesTo(`${fake.root}/cgroup.subtree_control`)).toEqual(['+cpuset', '+io', '+memory', '+hugetlb', '+pids', '+rdma', '+misc']);
    expect(writesTo(`${fake.root}/corral/cgroup.subtree_control`)).not.toContain('+cpu');
    expect(m.controllers().missing).toEqual(['cpu']);
  });

  it('refuses a parent that holds processes (no-internal-process rule), naming it', async () => {
    await mkdir(`${fake.root}/corral`);
    await writeFile(`${fake.root}/corral/cgroup.procs`, '4242\n');
    // The kernel's answer to enabling controllers in a cgroup that holds processes.
    io.refuse = (path) =>
      path === `${fake.root}/corral/cgroup.subtree_control` ? Object.assign(new Error('EBUSY: resource busy or locked, write'), { code: 'EBUSY' }) : undefined;
    const err = await manager({ selfPid: 99 }).create('c1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toMatch(new RegExp(`^enable controllers in ${fake.root}/corral: it holds processes \\(4242\\)`));
  });

  it('creates the limits cgroup, attaches the device program there, hands every controller to the processes\' child', async () => {
    const m = manager();
    attached.length = 0;
    const dir = `${fake.root}/corral/c1`;
    await m.ensureParent();
    // What the kernel gives a new child of Corral's parent.
    await mkdir(dir);
    await writeFile(`${dir}/cgroup.controllers`, 'cpuset cpu io memory pids\n');
    await writeFile(`${dir}/cgroup.subtree_control`, '');
    io.writes.length = 0;
    const devices = await m.create('c1');
    await m.create('c1');
    expect(m.paths('c1')).toEqual([dir]);
    expect(m.processPaths('c1')).toEqual([`${dir}/payload`]);
    expect(m.procsFiles('c1')).toEqual([`${dir}/payload/cgroup.procs`]);
    expect(await exists(`${dir}/payload`)).toBe(true);
    // The parent holds no process, so it may hand its controllers down in one write.
    expect(writesTo(`${dir}/cgroup.subtree_control`)[0]).toBe('+cpuset +cpu +io +memory +pids');
    expect(attached[0]).toEqual({ dir, rules: expect.arrayContaining(['c 1:3 rwm', 'c 5:2 rwm', 'c 136:* rwm']) });
    expect(attached[0]!.rules.some((r) => r.startsWith('b '))).toBe(false);
    expect(devices).toEqual([{ limit: 'devices', requested: expect.stringMatching(/^only \/dev\/null /), file: dir, value: attached[0]!.rules.join('\n') }]);
    expect(await m.list()).toEqual(['c1']);
  });

  it('fails the create, naming the cgroup, when the device program cannot be attached', async () => {
    const m = manager({ attachDevices: () => Promise.reject(new Error('bpf: Operation not permitted')) });
    await expect(m.create('c1')).rejects.toThrow('bpf: Operation not permitted');
    const noShim = manager({ attachDevices: undefined });
    await expect(noShim.create('c2')).rejects.toThrow(`attach a device program to ${fake.root}/corral/c2: no corral-shim given`);
  });

  it('kills through cgroup.kill when the kernel has it', async () => {
    const sent: number[] = [];
    const m = manager({ sendSignal: (pid) => void sent.push(pid) });
    await m.create('c1');
    await writeFile(`${fake.root}/corral/c1/cgroup.procs`, '77\n');
    await writeFile(`${fake.root}/corral/c1/cgroup.kill`, '');
    io.writes.length = 0;
    io.refuse = (path, data) => {
      // The kernel empties the cgroup when "1" is written to cgroup.kill.
      if (path.endsWith('/cgroup.kill') && data === '1') void writeFile(`${fake.root}/corral/c1/cgroup.procs`, '');
      return undefined;
    };
    await m.kill('c1');
    expect(writesTo(`${fake.root}/corral/c1/cgroup.kill`)).toEqual(['1']);
    expect(sent).toEqual([]);
  });

  it('falls back to signalling each pid without cgroup.kill, and for other signals', async () => {
    const sent: string[] = [];
    const m = manager({ sendSignal: (pid, sig) => void sent.push(`${pid}:${sig}`) });
    await m.create('c1');
    await writeFile(`${fake.root}/corral/c1/cgroup.procs`, '5\n6\n');
    await m.kill('c1', 'SIGTERM');
    expect(sent).toEqual(['5:SIGTERM', '6:SIGTERM']);
  });

  it('remove is idempotent and removeParent only removes an empty parent', async () => {
    const m = manager();
    await m.create('c1');
    await expect(m.removeParent()).rejects.toThrow(/still holds container cgroups: c1/);
    await m.remove('c1');
    await m.remove('c1');
    expect(await exists(`${fake.root}/corral/c1`)).toBe(false);
    expect(await exists(`${fake.root}/corral`)).toBe(true);
    await m.removeParent();
    expect(await exists(`${fake.root}/corral`)).toBe(false);
    expect(await readFile(`${fake.root}/cgroup.controllers`, 'utf8')).toContain('memory');
  });
});
