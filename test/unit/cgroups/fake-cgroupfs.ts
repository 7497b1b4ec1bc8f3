import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rmdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { kernels } from './recorded-writes.js';

/**
 * A cgroupfs stand-in in a temp dir. Real cgroup directories come with control files that vanish
 * on rmdir; `rmdir` here does the same (files go, child directories make it EBUSY). Like the
 * kernel, a new cgroup directory gets its control files at mkdir (through the node:fs/promises
 * mock of recorded-writes.ts, or `mkcg`), and writes never create one (write.ts opens without
 * O_CREAT), so a misspelled control file fails here as it does on a real kernel.
 */
export interface FakeCgroupfs {
  root: string;
  mountinfo: string;
  /** mkdir of a cgroup below the root, with the control files the kernel would make (sync). */
  mkcg: (path: string) => void;
  rmdir: (path: string) => Promise<void>;
  cleanup: () => Promise<void>;
}

/** Every v1 cgroup has these, whatever its hierarchy carries. */
const V1_CORE_FILES: Record<string, string> = { 'cgroup.procs': '', tasks: '', 'cgroup.clone_children': '0', notify_on_release: '0' };

export async function fakeV1(hierarchies: string[] = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids']): Promise<FakeCgroupfs> {
  const root = mkdtempSync(join(tmpdir(), 'corral-fakecg-'));
  const lines = [`31 23 0:28 / ${root} rw,relatime - tmpfs tmpfs rw,mode=755`];
  let n = 32;
  for (const h of hierarchies) {
    mkdirSync(join(root, h));
    writeControlFiles(join(root, h), v1Files(h.split(','), undefined));
    lines.push(`${n} 31 0:${n} / ${root}/${h} rw,relatime - cgroup cgroup rw,${h}`);
    n++;
  }
  if (hierarchies.some((h) => h.split(',').includes('cpuset'))) {
    const dir = join(root, hierarchies.find((h) => h.split(',').includes('cpuset'))!);
    writeFileSync(join(dir, 'cpuset.cpus'), '0-1\n');
    writeFileSync(join(dir, 'cpuset.mems'), '0\n');
  }
  mkdirSync(join(root, 'systemd'));
  lines.push(`${n} 31 0:${n} / ${root}/systemd rw,relatime - cgroup cgroup rw,name=systemd`);
  mkdirSync(join(root, 'unified'));
  writeFileSync(join(root, 'unified', 'cgroup.controllers'), 'hugetlb\n');
  lines.push(`${n + 1} 31 0:${n + 1} / ${root}/unified rw,relatime - cgroup2 cgroup2 rw`);
  // A new v1 cgroup: its hierarchy's files; cpuset.cpus/mems copied from the parent when the
  // parent has cgroup.clone_children set (the kernel does that at mkdir), empty otherwise.
  const populate = (dir: string): void => {
    const hierarchy = relative(root, dir).split('/')[0]!;
    if (!hierarchies.includes(hierarchy)) return;
    writeControlFiles(dir, v1Files(hierarchy.split(','), dirname(dir)));
  };
  return registered(root, lines.join('\n') + '\n', populate);
}

function v1Files(controllers: readonly string[], parent: string | undefined): Record<string, string> {
  const files: Record<string, string> = { ...V1_CORE_FILES };
  for (const c of controllers) Object.assign(files, V1_CONTROL_FILES[c] ?? {});
  if (controllers.includes('memory')) files['memory.use_hierarchy'] = '1';
  if (controllers.includes('cpuset') && parent !== undefined && readTrim(join(parent, 'cgroup.clone_children')) === '1') {
    files['cpuset.cpus'] = readTrim(join(parent, 'cpuset.cpus')) ?? '';
    files['cpuset.mems'] = readTrim(join(parent, 'cpuset.mems')) ?? '';
  }
  return files;
}

function readTrim(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

function writeControlFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content === '' ? '' : content + '\n');
}

/** The fake's handle; its kernel answers mkdir below `root` until cleanup. */
function registered(root: string, mountinfo: string, populate: (dir: string) => void): FakeCgroupfs {
  kernels.set(root, populate);
  const mkcg = (path: string): void => {
    mkdirSync(path);
    populate(path);
  };
  const cleanup = async (): Promise<void> => {
    kernels.delete(root);
    rmSync(root, { recursive: true, force: true });
  };
  return { root, mountinfo, mkcg, rmdir: cgroupfsRmdir, cleanup };
}

export interface FakeV2Options {
  /**
   * Make the mount's root a cgroup namespace root (privileged Docker's /sys/fs/cgroup): it has a
   * `cgroup.type`, as every cgroup but the hierarchy's real root does, so the no-internal-process
   * rule applies to it.
   */
  namespaceRoot?: boolean;
  /** Pids in the root's cgroup.procs (default: 1). */
  procs?: number[];
}

export async function fakeV2(controllers = 'cpuset cpu io memory hugetlb pids rdma misc', opts: FakeV2Options = {}): Promise<FakeCgroupfs> {
  const root = mkdtempSync(join(tmpdir(), 'corral-fakecg2-'));
  writeFileSync(join(root, 'cgroup.controllers'), controllers + '\n');
  writeFileSync(join(root, 'cgroup.subtree_control'), '');
  writeFileSync(join(root, 'cgroup.procs'), (opts.procs ?? [1]).map((p) => `${p}\n`).join(''));
  if (opts.namespaceRoot) writeFileSync(join(root, 'cgroup.type'), 'domain\n');
  const mountinfo = `30 23 0:26 / ${root} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;
  // A new v2 cgroup: the core files, and those of each controller its parent enabled for children.
  const populate = (dir: string): void => {
    const enabled = (readTrim(join(dirname(dir), 'cgroup.subtree_control')) ?? '').split(/\s+/).filter(Boolean);
    const files: Record<string, string> = { ...V2_CORE_FILES, 'cgroup.controllers': enabled.join(' ') };
    for (const c of enabled) Object.assign(files, V2_CONTROLLER_FILES[c] ?? {});
    writeControlFiles(dir, files);
  };
  return registered(root, mountinfo, populate);
}

async function cgroupfsRmdir(path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true });
  const procs = await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '');
  if (entries.some((e) => e.isDirectory()) || procs.trim() !== '') {
    throw Object.assign(new Error(`EBUSY: resource busy or locked, rmdir '${path}'`), { code: 'EBUSY' });
  }
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
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm' },
  freezer: { 'freezer.state': 'THAWED', 'freezer.self_freezing': '0', 'freezer.parent_freezing': '0' },
};

/** Every v2 cgroup but the root has these (6.1), whatever controllers it has. */
export const V2_CORE_FILES: Record<string, string> = {
  'cgroup.procs': '',
  'cgroup.threads': '',
  'cgroup.subtree_control': '',
  'cgroup.type': 'domain',
  'cgroup.events': 'populated 0\nfrozen 0',
  'cgroup.freeze': '0',
  'cgroup.kill': '',
  'cgroup.max.depth': 'max',
  'cgroup.max.descendants': 'max',
  'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0',
};

/** The files each v2 controller adds to a cgroup it is enabled in (6.1, BFQ absent, iocost present). */
export const V2_CONTROLLER_FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.max': 'max 100000', 'cpu.weight': '100', 'cpu.weight.nice': '0' },
  memory: {
    'memory.max': 'max',
    'memory.high': 'max',
    'memory.low': '0',
    'memory.min': '0',
    'memory.swap.max': 'max',
    'memory.swap.current': '0',
    'memory.current': '0',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0',
  },
  pids: { 'pids.max': 'max', 'pids.current': '0', 'pids.events': 'max 0' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '', 'cpuset.cpus.effective': '0-1', 'cpuset.mems.effective': '0', 'cpuset.cpus.partition': 'member' },
  io: { 'io.max': '', 'io.weight': 'default 100', 'io.stat': '' },
  hugetlb: { 'hugetlb.2MB.max': 'max', 'hugetlb.2MB.current': '0' },
  rdma: { 'rdma.max': '', 'rdma.current': '' },
  misc: { 'misc.max': '', 'misc.current': '' },
};

/** A v2 container cgroup with Corral's five controllers (cgroup.controllers as handed down by Corral's parent). */
export const V2_CONTROL_FILES: Record<string, string> = {
  ...V2_CORE_FILES,
  ...Object.assign({}, ...['cpuset', 'cpu', 'io', 'memory', 'pids'].map((c) => V2_CONTROLLER_FILES[c])),
  'cgroup.controllers': 'cpuset cpu io memory pids',
};

/** Write (or overwrite) control files in a fake cgroup directory, which must exist. */
export async function addControlFiles(dir: string, files: Record<string, string>): Promise<void> {
  writeControlFiles(dir, files);
}

const errno = (code: string, path: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: write '${path}'`), { code });
const pidsIn = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split(/\s+/).filter(Boolean) : []);

/** Controllers that may run in threaded mode; the others are domain controllers. */
const THREADED = new Set(['cpu', 'cpuset', 'perf_event', 'pids']);

/**
 * Plays the cgroup v2 kernel (6.1) for a write to a fake hierarchy (node:fs sync calls, so it
 * works under a mocked node:fs/promises):
 * - cgroup.subtree_control takes `+name -name ...` in one write, vetted as a whole. Outside the
 *   real root (no `cgroup.type`), the no-internal-process rule: enabling a domain controller in a
 *   cgroup with processes is EBUSY, or EOPNOTSUPP once threaded controllers made it a thread
 *   root. Threaded controllers alone are allowed there (and make it one).
 * - a pid written to cgroup.procs leaves every other cgroup.procs of the hierarchy; ESRCH when
 *   no cgroup lists it (it exited); EBUSY when the target has controllers enabled for children.
 * - no control file is ever created: a missing one is ENOENT.
 * Returns the error to throw, `'handled'` when it made the write itself, or undefined for any
 * other file (a plain write).
 */
export function v2KernelWrite(root: string, path: string, data: string): NodeJS.ErrnoException | 'handled' | undefined {
  const dir = dirname(path);
  if (!dir.startsWith(root)) return undefined;
  const realRoot = dir === root && !existsSync(join(root, 'cgroup.type'));
  const handled = path.endsWith('/cgroup.subtree_control') || path.endsWith('/cgroup.procs');
  if (handled && !existsSync(path)) return errno('ENOENT', path);
  if (path.endsWith('/cgroup.subtree_control')) {
    const words = data.split(/\s+/).filter(Boolean);
    const current = new Set(pidsIn(path));
    const tasks = pidsIn(join(dir, 'cgroup.procs')).length > 0;
    const domain = words.filter((w) => w.startsWith('+') && !THREADED.has(w.slice(1)));
    if (!realRoot && domain.length > 0 && tasks) {
      return errno([...current].some((c) => THREADED.has(c)) ? 'EOPNOTSUPP' : 'EBUSY', path);
    }
    for (const word of words) {
      if (word.startsWith('+')) current.add(word.slice(1));
      else if (word.startsWith('-')) current.delete(word.slice(1));
    }
    writeFileSync(path, [...current].join(' ') + '\n');
    return 'handled';
  }
  if (path.endsWith('/cgroup.procs')) {
    const pid = data.trim();
    if (!realRoot && pidsIn(join(dir, 'cgroup.subtree_control')).length > 0) return errno('EBUSY', path);
    let found = false;
    const walk = (d: string): void => {
      const file = join(d, 'cgroup.procs');
      const pids = pidsIn(file);
      if (pids.includes(pid)) {
        found = true;
        writeFileSync(file, pids.filter((p) => p !== pid).map((p) => `${p}\n`).join(''));
      }
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    walk(root);
    if (!found) return errno('ESRCH', path);
    writeFileSync(path, [...pidsIn(path), pid].map((p) => `${p}\n`).join(''));
    return 'handled';
  }
  return undefined;
}
