import { afterEach, describe, expect, it } from 'vitest';
import { createCgroupManager, detectCgroups, parseCgroupMounts } from '../../../src/cgroups/detect.js';
import { DEFAULT_PATHS } from '../../../src/config.js';
import { CgroupError } from '../../../src/errors.js';
import { fakeV1, fakeV2, type FakeCgroupfs } from './fake-cgroupfs.js';

/** This development machine (hybrid: v1 controllers plus a cgroup2 mount with only hugetlb). */
const HYBRID = `22 1 253:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** A systemd host with the unified hierarchy (Debian 11+, Ubuntu 21.10+). */
const PURE_V2 = `24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

/** A legacy v1 host (CentOS 7 style): co-mounted cpu,cpuacct and net_cls,net_prio, no cgroup2. */
const LEGACY_V1 = `24 1 8:1 / / rw,relatime shared:1 - xfs /dev/sda1 rw
25 24 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,net_cls,net_prio
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpuset
32 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids
`;

describe('parseCgroupMounts', () => {
  it('treats a hybrid host as v1 and reports its cgroup2 mount', () => {
    const m = parseCgroupMounts(HYBRID, '/sys/fs/cgroup');
    expect(m.mode).toBe('v1');
    expect(m.unified).toBe('/sys/fs/cgroup/unified');
    expect(m.v1.map((h) => h.controllers.join(','))).toEqual(['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'name=systemd']);
    expect(m.v1.find((h) => h.controllers.includes('memory'))?.mountpoint).toBe('/sys/fs/cgroup/memory');
  });

  it('recognises cgroup2 mounted at the root as v2', () => {
    expect(parseCgroupMounts(PURE_V2, '/sys/fs/cgroup/')).toEqual({ mode: 'v2', root: '/sys/fs/cgroup', v1: [], unified: '/sys/fs/cgroup' });
  });

  it('reads co-mounted v1 controllers from the super options', () => {
    const m = parseCgroupMounts(LEGACY_V1);
    expect(m.mode).toBe('v1');
    expect(m.unified).toBeNull();
    expect(m.v1).toContainEqual({ mountpoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] });
    expect(m.v1).toContainEqual({ mountpoint: '/sys/fs/cgroup/net_cls,net_prio', controllers: ['net_cls', 'net_prio'] });
    // A named hierarchy has no controller, but a container must be in it too (its cgroupns root).
    expect(m.v1).toContainEqual({ mountpoint: '/sys/fs/cgroup/systemd', controllers: ['name=systemd'] });
  });

  it('unescapes mount points and lets a later mount hide an earlier one', () => {
    const text = `1 0 0:1 / /my\\040cg rw - cgroup2 cgroup2 rw\n2 0 0:2 / /my\\040cg rw - tmpfs tmpfs rw\n3 2 0:3 / /my\\040cg/pids rw - cgroup cgroup rw,pids\n`;
    const m = parseCgroupMounts(text, '/my cg');
    expect(m.mode).toBe('v1');
    expect(m.v1).toEqual([{ mountpoint: '/my cg/pids', controllers: ['pids'] }]);
  });

  it('fails naming the root when nothing is mounted there', () => {
    expect(() => parseCgroupMounts(HYBRID, '/elsewhere')).toThrow(CgroupError);
    expect(() => parseCgroupMounts(HYBRID, '/elsewhere')).toThrow(/detect cgroup mode at \/elsewhere: /);
  });
});

describe('detectCgroups and createCgroupManager', () => {
  let fake: FakeCgroupfs | undefined;
  afterEach(async () => {
    await fake?.cleanup();
    fake = undefined;
  });

  it('reads the unified controllers of a hybrid host and picks the v1 driver', async () => {
    fake = await fakeV1();
    const d = await detectCgroups(fake.root, { mountinfo: fake.mountinfo });
    expect(d.mode).toBe('v1');
    expect(d.unifiedControllers).toEqual(['hugetlb']);
    const m = await createCgroupManager({ ...DEFAULT_PATHS, cgroupRoot: fake.root }, { mountinfo: fake.mountinfo });
    expect(m.driver).toBe('v1');
    expect(m.controllers()).toEqual({ available: ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'blkio'], missing: [], unifiedOnly: ['hugetlb'] });
    // Every hierarchy, the cgroup2 mount included, holds the container.
    expect(m.paths('c1').map((p) => p.slice(fake!.root.length + 1))).toEqual(
      ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', 'unified'].map((h) => `${h}/corral/c1`),
    );
  });

  it('picks the v2 driver for a cgroup2 root', async () => {
    fake = await fakeV2();
    const m = await createCgroupManager({ ...DEFAULT_PATHS, cgroupRoot: fake.root }, { mountinfo: fake.mountinfo });
    expect(m.driver).toBe('v2');
    expect(m.paths('c1')).toEqual([`${fake.root}/corral/c1`]);
  });
});
