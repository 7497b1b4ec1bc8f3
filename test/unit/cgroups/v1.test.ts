import { mkdir, readFile, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCgroupMounts } from '../../../src/cgroups/detect.js';
import { V1CgroupManager, type V1ManagerOptions } from '../../../src/cgroups/v1/manager.js';
import { writeCgroupFile } from '../../../src/cgroups/write.js';
import { CgroupError, ValidationError } from '../../../src/errors.js';
import { fakeV1, type FakeCgroupfs } from './fake-cgroupfs.js';
import { io } from './recorded-writes.js';

// mkdir in the fake cgroupfs makes the control files a kernel would.
vi.mock('node:fs/promises', (orig) => import('./recorded-writes.js').then((m) => m.recordWrites(orig)));

let fake: FakeCgroupfs | undefined;
const fakes: FakeCgroupfs[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.cleanup();
});

async function setup(hierarchies?: string[], extra: Partial<V1ManagerOptions> = {}) {
  fake = await fakeV1(hierarchies);
  fakes.push(fake);
  const logs: string[] = [];
  const mounts = parseCgroupMounts(fake.mountinfo, fake.root);
  const m = new V1CgroupManager({
    hierarchies: mounts.v1,
    unified: mounts.unified,
    parent: 'corral',
    rmdir: fake.rmdir,
    log: (s) => logs.push(s),
    sendSignal: () => {
      throw new Error('no signals in unit tests');
    },
    ...extra,
  });
  return { m, root: fake.root, logs };
}

const read = (p: string) => readFile(p, 'utf8').then((s) => s.trim());
const exists = (p: string) => stat(p).then(() => true, () => false);

describe('V1CgroupManager', () => {
  it('puts a container in <hierarchy>/<parent>/<id> of EVERY mounted hierarchy, its processes in the child payload', async () => {
    const { m, root } = await setup();
    const devices = await m.create('c1');
    // Limit controllers first, then the others, named ones and the hybrid cgroup2 mount included:
    // a cgroup namespace made after joining roots every one of them at the container's own cgroup.
    const all = ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', 'unified'];
    const dirs = all.map((h) => `${root}/${h}/corral/c1`);
    expect(m.paths('c1')).toEqual(dirs);
    expect(m.processPaths('c1')).toEqual(dirs.map((d) => `${d}/payload`));
    expect(m.procsFiles('c1')).toEqual(dirs.map((d) => `${d}/payload/cgroup.procs`));
    for (const d of dirs) expect(await exists(`${d}/payload`)).toBe(true);
    expect(await m.list()).toEqual(['c1']);
    // The devices allow-list is on the limits cgroup, recorded as written.
    expect(devices.map((d) => [d.file, d.value])).toEqual([
      [`${root}/devices/corral/c1/devices.deny`, 'a'],
      [`${root}/devices/corral/c1/devices.allow`, expect.stringContaining('c 136:* rwm')],
    ]);
  });

  it('denies every device on the limits cgroup, then allows only the nodes of the container\'s /dev', async () => {
    const { m, root } = await setup();
    const devices = await m.create('c1');
    const allow = devices.find((d) => d.file.endsWith('devices.allow'))!;
    expect(allow.value.split('\n')).toEqual([
      'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm',
    ]);
    expect(allow.requested).toBe('only /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/console /dev/ptmx /dev/pts/*');
    expect(await read(`${root}/devices/corral/c1/devices.deny`)).toBe('a');
    // No block device, no mknod of anything else.
    expect(allow.value).not.toMatch(/^b /m);
    // Hierarchies without the devices controller get no devices files.
    expect(await exists(`${root}/freezer/corral/c1/devices.deny`)).toBe(false);
  });
  it('copies cpuset.cpus and cpuset.mems down to the parent and lets the kernel clone them into containers', async () => {
    const { m, root } = await setup();
    await m.ensureParent();
    await m.create('c1');
    expect(await read(`${root}/cpuset/corral/cpuset.cpus`)).toBe('0-1');
    expect(await read(`${root}/cpuset/corral/cpuset.mems`)).toBe('0');
    expect(await read(`${root}/cpuset/corral/cgroup.clone_children`)).toBe('1');
    // At mkdir the kernel fills the child from the parent (so does the fake); Corral does not write it.
    expect(await read(`${root}/cpuset/corral/c1/cpuset.cpus`)).toBe('0-1');
    expect(io.writes.filter((w) => w.path.startsWith(`${root}/cpuset/corral/c1/`))).toEqual([]);
    expect(await exists(`${root}/cpu/corral/cpuset.cpus`)).toBe(false);
  });

  it('fills an existing container cgroup that predates clone_children', async () => {
    const { m, root } = await setup();
    await m.ensureParent();
    await mkdir(`${root}/cpuset/corral/old`);
    await m.create('old');
    expect(await read(`${root}/cpuset/corral/old/cpuset.cpus`)).toBe('0-1');
  });

  it('fills every level of a nested parent and keeps values already set', async () => {
    const { m, root } = await setup(undefined, { parent: 'a/b' });
    await mkdir(`${root}/cpuset/a`);
    await writeFile(`${root}/cpuset/a/cpuset.cpus`, '1\n');
    await m.ensureParent();
    await m.create('c1');
    expect(await read(`${root}/cpuset/a/cpuset.cpus`)).toBe('1');
    expect(await read(`${root}/cpuset/a/cpuset.mems`)).toBe('0');
    expect(await read(`${root}/cpuset/a/b/cpuset.cpus`)).toBe('1');
    expect(await read(`${root}/cpuset/a/b/cgroup.clone_children`)).toBe('1');
    expect(m.paths('c1')[0]).toBe(`${root}/cpu/a/b/c1`);
  });

  it('shares one directory between co-mounted controllers and reports missing ones', async () => {
    const { m, root } = await setup(['cpu,cpuacct', 'memory', 'cpuset']);
    expect(m.paths('x')).toEqual([`${root}/cpu,cpuacct/corral/x`, `${root}/memory/corral/x`, `${root}/cpuset/corral/x`, `${root}/systemd/corral/x`, `${root}/unified/corral/x`]);
    expect(m.controllers()).toMatchObject({ available: ['cpu', 'cpuacct', 'memory', 'cpuset'], missing: ['pids', 'blkio'] });
  });

  it('sets memory.use_hierarchy when it is 0, and only warns when it cannot', async () => {
    const { m, root, logs } = await setup();
    await mkdir(`${root}/memory/corral`);
    await writeFile(`${root}/memory/corral/memory.use_hierarchy`, '0\n');
    await m.ensureParent();
    expect(await read(`${root}/memory/corral/memory.use_hierarchy`)).toBe('1');

    const other = await setup(undefined, {});
    await mkdir(`${other.root}/memory/corral`);
    await unlink(`${other.root}/memory/corral/memory.use_hierarchy`);
    // Readable, not "1", and refuses writes (EIO), like an old kernel's file with children present.
    await symlink('/proc/version', `${other.root}/memory/corral/memory.use_hierarchy`);
    await other.m.ensureParent();
    expect(other.logs.join('\n')).toMatch(/memory limits of .*\/memory\/corral will not cover its children/);
    expect(logs).toEqual([]);
  });

  it('lists container cgroups found in any hierarchy', async () => {
    const { m, root } = await setup();
    expect(await m.list()).toEqual([]);
    await m.create('b');
    await m.create('a');
    await mkdir(`${root}/pids/corral/stray`);
    expect(await m.list()).toEqual(['a', 'b', 'stray']);
  });

  it('reads pids from every hierarchy and nested cgroups', async () => {
    const { m, root } = await setup();
    await m.create('c1');
    await writeFile(`${root}/cpu/corral/c1/cgroup.procs`, '10\n12\n');
    await writeFile(`${root}/pids/corral/c1/cgroup.procs`, '12\n');
    await mkdir(`${root}/pids/corral/c1/nested`);
    await writeFile(`${root}/pids/corral/c1/nested/cgroup.procs`, '30\n');
    expect(await m.pids('c1')).toEqual([10, 12, 30]);
    expect(await m.pids('absent')).toEqual([]);
  });

  it('kill repeats SIGKILL until the cgroup is empty', async () => {
    const sent: [number, string][] = [];
    const { m, root } = await setup(undefined, {
      sendSignal: (pid, sig) => {
        sent.push([pid, sig]);
        // The first round "misses" a child forked meanwhile.
        const left = sent.length === 1 ? '11\n' : '';
        void writeFile(`${root}/cpu/corral/c1/cgroup.procs`, left);
      },
    });
    await m.create('c1');
    await writeFile(`${root}/cpu/corral/c1/cgroup.procs`, '10\n');
    await m.kill('c1');
    expect(sent).toEqual([[10, 'SIGKILL'], [11, 'SIGKILL']]);
  });

  it('kill gives up with an error naming the cgroup when processes stay', async () => {
    const { m, root } = await setup(undefined, { sendSignal: () => {}, timeoutMs: 50 });
    await m.create('c1');
    await writeFile(`${root}/cpu/corral/c1/cgroup.procs`, '10\n');
    await expect(m.kill('c1')).rejects.toThrow(`kill -SIGKILL ${root}/cpu/corral/c1: processes still present after 50 ms: 10`);
  });

  it('remove is idempotent, removes nested cgroups, and keeps the parent', async () => {
    const { m, root } = await setup();
    await m.create('c1');
    await mkdir(`${root}/memory/corral/c1/inner`);
    await m.remove('c1');
    for (const d of m.paths('c1')) expect(await exists(d)).toBe(false);
    await m.remove('c1');
    await m.remove('never-created');
    expect(await exists(`${root}/memory/corral`)).toBe(true);
    expect(await m.list()).toEqual([]);
  });

  it('remove retries while tasks are exiting, then names the busy path', async () => {
    let busy = 2;
    const { m } = await setup(undefined, {
      rmdir: async (p) => {
        if (busy-- > 0) throw Object.assign(new Error('busy'), { code: 'EBUSY' });
        await fake!.rmdir(p);
      },
    });
    await m.create('c1');
    await m.remove('c1');
    expect(await m.list()).toEqual([]);

    const stuck = await setup(undefined, {
      rmdir: async () => {
        throw Object.assign(new Error('busy'), { code: 'EBUSY' });
      },
      timeoutMs: 30,
    });
    await stuck.m.create('c2');
    const err = await stuck.m.remove('c2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toBe(`remove ${stuck.root}/cpu/corral/c2/payload: Device or resource busy (EBUSY)`);
  });

  it('removeParent refuses while containers remain, then removes the empty parent', async () => {
    const { m, root } = await setup();
    await m.create('c1');
    await expect(m.removeParent()).rejects.toThrow(/still holds container cgroups: c1/);
    await m.remove('c1');
    await m.removeParent();
    expect(await exists(`${root}/cpuset/corral`)).toBe(false);
    expect(await exists(`${root}/cpuset/cpuset.cpus`)).toBe(true);
    await m.removeParent();
  });

  it('rejects ids and parents that are not one safe path component', async () => {
    const { m } = await setup();
    for (const bad of ['', '..', '../x', 'a/b', '.hidden']) {
      expect(() => m.paths(bad)).toThrow(ValidationError);
      await expect(m.create(bad)).rejects.toThrow(ValidationError);
    }
    expect(() => new V1CgroupManager({ hierarchies: [], parent: '' })).toThrow(ValidationError);
    expect(() => new V1CgroupManager({ hierarchies: [], parent: 'a/../b' })).toThrow(ValidationError);
  });

  it('refuses a host where no used controller is mounted', () => {
    const only = [{ mountpoint: '/sys/fs/cgroup/devices', controllers: ['devices'] }];
    expect(() => new V1CgroupManager({ hierarchies: only, parent: 'corral' })).toThrow(
      'use /sys/fs/cgroup: none of the v1 controllers cpu, cpuacct, memory, pids, cpuset, blkio is mounted',
    );
  });
});

describe('writeCgroupFile', () => {
  it('names the value and the path in its error', async () => {
    const err = await writeCgroupFile('/nonexistent-corral/cpuset/corral/cpuset.cpus', '0-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toBe('write 0-1 to /nonexistent-corral/cpuset/corral/cpuset.cpus: No such file or directory (ENOENT)');
  });

  it('writes the value as is, replacing what the file held', async () => {
    const { m } = await setup();
    await m.create('c1');
    const file = join(m.paths('c1').find((p) => p.includes('/pids/'))!, 'pids.max');
    await writeCgroupFile(file, 1234567);
    await writeCgroupFile(file, 64);
    expect(await read(file)).toBe('64');
  });

  it('never creates a control file: a misspelled name fails, naming the path', async () => {
    const { m } = await setup();
    await m.create('c1');
    const dir = m.paths('c1').find((p) => p.includes('/memory/'))!;
    const err = await writeCgroupFile(join(dir, 'memory.limit_in_byte'), 4096).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupError);
    expect((err as Error).message).toBe(`write 4096 to ${dir}/memory.limit_in_byte: No such file or directory (ENOENT)`);
    expect(await exists(join(dir, 'memory.limit_in_byte'))).toBe(false);
  });
});
