import { mkdir, mkdtemp, readdir, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A cgroupfs stand-in in a temp dir. Real cgroup directories come with control files that vanish
 * on rmdir; `rmdir` here does the same (files go, child directories make it EBUSY).
 */
export interface FakeCgroupfs {
  root: string;
  mountinfo: string;
  rmdir: (path: string) => Promise<void>;
  cleanup: () => Promise<void>;
}

export async function fakeV1(hierarchies: string[] = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids']): Promise<FakeCgroupfs> {
  const root = await mkdtemp(join(tmpdir(), 'corral-fakecg-'));
  const lines = [`31 23 0:28 / ${root} rw,relatime - tmpfs tmpfs rw,mode=755`];
  let n = 32;
  for (const h of hierarchies) {
    await mkdir(join(root, h));
    lines.push(`${n} 31 0:${n} / ${root}/${h} rw,relatime - cgroup cgroup rw,${h}`);
    n++;
  }
  if (hierarchies.some((h) => h.split(',').includes('cpuset'))) {
    const dir = join(root, hierarchies.find((h) => h.split(',').includes('cpuset'))!);
    await writeFile(join(dir, 'cpuset.cpus'), '0-1\n');
    await writeFile(join(dir, 'cpuset.mems'), '0\n');
  }
  lines.push(`${n} 31 0:${n} / ${root}/systemd rw,relatime - cgroup cgroup rw,name=systemd`);
  await mkdir(join(root, 'unified'));
  await writeFile(join(root, 'unified', 'cgroup.controllers'), 'hugetlb\n');
  lines.push(`${n + 1} 31 0:${n + 1} / ${root}/unified rw,relatime - cgroup2 cgroup2 rw`);
  return { root, mountinfo: lines.join('\n') + '\n', rmdir: cgroupfsRmdir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function fakeV2(controllers = 'cpuset cpu io memory hugetlb pids rdma misc'): Promise<FakeCgroupfs> {
  const root = await mkdtemp(join(tmpdir(), 'corral-fakecg2-'));
  await writeFile(join(root, 'cgroup.controllers'), controllers + '\n');
  await writeFile(join(root, 'cgroup.subtree_control'), '');
  await writeFile(join(root, 'cgroup.procs'), '1\n');
  const mountinfo = `30 23 0:26 / ${root} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;
  return { root, mountinfo, rmdir: cgroupfsRmdir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

async function cgroupfsRmdir(path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true });
  if (entries.some((e) => e.isDirectory())) throw Object.assign(new Error(`EBUSY: resource busy or locked, rmdir '${path}'`), { code: 'EBUSY' });
  for (const e of entries) await unlink(join(path, e.name));
  await rmdir(path);
}

/** v1 "unlimited", as the kernel reports it. */
export const V1_UNLIMITED = '9223372036854771712';

/** Control files a kernel creates in a new v1 container cgroup, per controller, with their defaults. */
export const V1_CONTROL_FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.shares': '1024' },
  cpuacct: { 'cpuacct.usage': '0' },
  memory: {
    'memory.limit_in_bytes': V1_UNLIMITED,
    'memory.memsw.limit_in_bytes': V1_UNLIMITED,
    'memory.soft_limit_in_bytes': V1_UNLIMITED,
    'memory.usage_in_bytes': '0',
    'memory.failcnt': '0',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0',
  },
  pids: { 'pids.max': 'max', 'pids.current': '0' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '', 'cpuset.effective_cpus': '0-1', 'cpuset.effective_mems': '0' },
  blkio: {
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
    'blkio.throttle.io_service_bytes': 'Total 0',
  },
};

/** The same for a v2 container cgroup (cgroup.controllers as handed down by Corral's parent). */
export const V2_CONTROL_FILES: Record<string, string> = {
  'cgroup.controllers': 'cpuset cpu io memory pids',
  'cgroup.procs': '',
  'cpu.max': 'max 100000',
  'cpu.weight': '100',
  'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0',
  'memory.max': 'max',
  'memory.low': '0',
  'memory.swap.max': 'max',
  'memory.current': '0',
  'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0',
  'pids.max': 'max',
  'pids.current': '0',
  'cpuset.cpus': '',
  'cpuset.mems': '',
  'cpuset.cpus.effective': '0-1',
  'cpuset.mems.effective': '0',
  'io.max': '',
  'io.weight': 'default 100',
  'io.stat': '',
};

/** Write control files into a fake cgroup directory (which must exist). */
export async function addControlFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content === '' ? '' : content + '\n');
}
