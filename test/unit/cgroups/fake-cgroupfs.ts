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
