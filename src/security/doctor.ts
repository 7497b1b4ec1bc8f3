import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroups } from '../cgroups/detect.js';
import type { Check } from '../system/doctor.js';
import { DEFAULT_CAPABILITIES } from './capabilities.js';
import { compileSeccomp, parseSecurityOpts, seccompCompilerPath, seccompForContainer } from './seccomp.js';

/**
 * `corral doctor`'s isolation lines: what this host's kernel gives a tenant's container, found by
 * asking it (`corral-shim probe`, a real compile and load of the default seccomp profile), never by
 * guessing from the kernel version. Each detail says what the finding means for a tenant.
 */

/** One step of `corral-shim probe idmap`: `userns`, `idmap`, `overlay`. */
export interface ProbeLine {
  step: string;
  status: 'ok' | 'fail' | 'skip';
  message: string;
}

/** Pure: the lines `corral-shim probe` printed. */
export function parseProbe(stdout: string): ProbeLine[] {
  return stdout
    .split('\n')
    .map((l) => /^(\S+) (ok|fail|skip)(?: (.*))?$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: m[1]!, status: m[2] as ProbeLine['status'], message: m[3] ?? '' }));
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && !stdout ? err.message : '') });
    });
  });
}

const readNumber = async (file: string): Promise<number | undefined> => {
  const t = await readFile(file, 'utf8').catch(() => undefined);
  return t === undefined ? undefined : Number(t.trim());
};

/** The nearest existing directory at or above `dir` (the data root may not exist before corrald's first start). */
function existing(dir: string): string {
  let d = dir;
  while (!existsSync(d) && d !== '/') d = d.replace(/\/[^/]*$/, '') || '/';
  return d;
}

const FS_NAMES: Record<number, string> = { 0xef53: 'ext4', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs', 0x01021997: '9p' };

/** The user namespace and idmapped-mount lines, from one probe on the data root's filesystem. */
export async function usernsChecks(dataRoot: string, shim: string): Promise<Check[]> {
  const max = await readNumber('/proc/sys/user/max_user_namespaces');
  const dir = existing(dataRoot);
  const fsType = await statfs(dir).then((s) => FS_NAMES[Number(s.type)] ?? `fs type 0x${Number(s.type).toString(16)}`, () => 'unknown fs');
  const probe = existsSync(shim) ? await run(shim, ['probe', 'idmap', dir]) : undefined;
  const lines = probe ? parseProbe(probe.stdout) : [];
  const step = (s: string): ProbeLine | undefined => lines.find((l) => l.step === s);
  const why = (l: ProbeLine | undefined): string => l?.message || (probe ? probe.stderr.trim().split('\n').pop() || `corral-shim probe exited ${probe.code}` : `${shim} is missing`);

  const checks: Check[] = [];
  const userns = step('userns');
  if (max === 0 || userns?.status !== 'ok') {
    checks.push({
      name: 'user namespaces',
      status: 'fail',
      detail: max === 0
        ? 'user.max_user_namespaces is 0: no container can have its own user namespace, so container root would be host root'
        : `cannot make a user namespace (${why(userns)}): no container can have its own, so container root would be host root`,
      fix: 'sysctl -w user.max_user_namespaces=65536 (and make it permanent in /etc/sysctl.d), or run containers with --userns host knowing they hold host root',
    });
  } else {
    const clone = await readNumber('/proc/sys/kernel/unprivileged_userns_clone');
    const host = clone === 0 ? 'unprivileged host users cannot make their own (kernel.unprivileged_userns_clone=0)' : 'unprivileged host users may make their own too';
    checks.push({
      name: 'user namespaces',
      status: max !== undefined && max < 1024 ? 'warn' : 'ok',
      detail: `up to ${max ?? '?'} (user.max_user_namespaces); each container with its own uses one, so its root is an unprivileged host uid; ${host}; inside a container the default seccomp profile refuses new ones without CAP_SYS_ADMIN`,
      ...(max !== undefined && max < 1024 ? { fix: `user.max_user_namespaces=${max} caps how many containers run with their own user namespace; raise it (sysctl -w user.max_user_namespaces=65536)` } : {}),
    });
  }

  const idmap = step('idmap');
  const overlay = step('overlay');
  if (idmap?.status === 'ok' && overlay?.status === 'ok') {
    checks.push({ name: 'idmapped mounts', status: 'ok', detail: `${dir} (${fsType}) can be idmapped and used as an overlay lower: one template serves every container, each seeing its files owned by its own root` });
  } else {
    const failed = idmap?.status === 'ok' ? overlay : idmap;
    checks.push({
      name: 'idmapped mounts',
      status: 'warn',
      detail: `${dir} (${fsType}) ${idmap?.status === 'ok' ? 'can be idmapped but overlayfs refuses it as a lower layer' : 'cannot be idmapped'} (${why(failed)}): containers with their own user namespace cannot start here; with --userns host container root is host root (a file it makes setuid-root in a volume is setuid-root on the host)`,
      fix: 'put the data root on ext4, xfs or btrfs (tmpfs needs Linux 6.3+, overlay over idmapped layers 5.19+), or run corrald --default-userns host and accept that container root is host root',
    });
  }
  return checks;
}

/** How containers created without --userns are isolated, by the corrald that would create them. */
export function usernsDefaultCheck(mode: 'private' | 'host', source: string, idmapUsable: boolean): Check {
  if (mode === 'host') {
    return {
      name: 'userns default',
      status: 'warn',
      detail: `host (${source}): containers created without --userns share the host's user namespace, so their root is host root; only capabilities, seccomp, masked paths and cgroups stand between it and the host`,
      fix: 'run corrald with --default-userns private (the default) on a data root that can be idmapped; --userns private per container',
    };
  }
  if (!idmapUsable) {
    return {
      name: 'userns default',
      status: 'fail',
      detail: `private (${source}), but the data root cannot be idmapped: containers created without --userns fail to start`,
      fix: 'move the data root to ext4, xfs or btrfs, or run corrald --default-userns host',
    };
  }
  return { name: 'userns default', status: 'ok', detail: `private (${source}): each container gets 65,536 host ids of its own from 1,000,000 up, so its root is an unprivileged host uid; --userns host opts out per container` };
}

/**
 * Compiles the default profile as a create would (corral-seccomp, libseccomp) and loads it in a
 * probe child: keyctl(2) must come back EPERM.
 */
export async function seccompCheck(shim: string): Promise<Check> {
  const compiler = seccompCompilerPath(shim);
  const unconfined = 'containers can only run with --security-opt seccomp=unconfined, with the whole syscall surface of the kernel (keyrings, io_uring, bpf, new namespaces)';
  if (!existsSync(compiler)) {
    return { name: 'seccomp', status: 'fail', detail: `${compiler} is missing: ${unconfined}`, fix: 'apt-get install libseccomp-dev, then npm run build' };
  }
  const dir = await mkdtemp(join(tmpdir(), 'corral-doctor-seccomp-'));
  try {
    const files = seccompForContainer(parseSecurityOpts([]), DEFAULT_CAPABILITIES);
    await writeFile(join(dir, 'seccomp.flat'), files.filter!, { mode: 0o600 });
    const bpf = join(dir, 'seccomp.bpf');
    try {
      await compileSeccomp(shim, join(dir, 'seccomp.flat'), bpf);
    } catch (err) {
      return { name: 'seccomp', status: 'fail', detail: `corral-seccomp cannot compile the default profile (${(err as Error).message}): ${unconfined}`, fix: 'rebuild with the static libseccomp (apt-get install libseccomp-dev; npm run build)' };
    }
    const r = await run(shim, ['probe', 'seccomp', bpf]);
    const line = parseProbe(r.stdout).find((l) => l.step === 'seccomp');
    if (line?.status === 'ok' && line.message === 'keyctl EPERM') {
      const insns = (await readFile(bpf)).length / 8;
      return { name: 'seccomp', status: 'ok', detail: `the default profile compiles (${insns} BPF instructions, corral-seccomp ${compiler}) and loads: a container's keyctl, bpf, io_uring, kexec, module loading and namespace creation get EPERM` };
    }
    return {
      name: 'seccomp',
      status: 'fail',
      detail: `the default profile ${line?.status === 'ok' ? `loads but does not refuse keyctl (${line.message})` : `cannot be loaded (${line?.message || r.stderr.trim() || `probe exited ${r.code}`})`}: ${unconfined}`,
      fix: 'use a kernel with CONFIG_SECCOMP_FILTER=y',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Which cgroup hierarchies a container gets its own cgroup in, and which it would share with the host. */
export async function cgroupIsolationCheck(cgroupRoot: string): Promise<Check> {
  if (!existsSync('/proc/self/ns/cgroup')) {
    return { name: 'cgroup isolation', status: 'fail', detail: 'no cgroup namespaces: a container sees the host\'s cgroup tree and, with CAP_SYS_ADMIN, could mount and write it', fix: 'use a kernel with CONFIG_CGROUPS and cgroup namespaces (4.6+)' };
  }
  try {
    const cg = await detectCgroups(cgroupRoot);
    if (cg.mode === 'v2') {
      return { name: 'cgroup isolation', status: 'ok', detail: `cgroup v2 (one hierarchy at ${cg.root}): each container has its own cgroup (limits on <parent>/<id>, processes in its payload child, a BPF device allow-list) and a cgroup namespace rooted there, so it cannot see or raise what holds it` };
    }
    const own = [...cg.v1.map((h) => h.controllers.join(',')), ...(cg.unified ? ['cgroup2'] : [])];
    const mounted = new Set(cg.v1.flatMap((h) => h.controllers));
    // Hierarchies this process is in but that are not mounted below the root: a container would stay in its parent's cgroup there.
    const self = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
    const shared = self.split('\n').map((l) => l.split(':')[1] ?? '').filter((h) => h !== '' && !h.split(',').some((c) => mounted.has(c)));
    const devices = mounted.has('devices') ? 'a devices allow-list' : 'no devices cgroup (device nodes are refused only by nodev mounts)';
    const detail = `cgroup v1: each container has its own cgroup in ${own.join(' ')} (limits on <parent>/<id>, processes in its payload child, ${devices}) and a cgroup namespace rooted there`;
    if (shared.length > 0 || !mounted.has('devices')) {
      return { name: 'cgroup isolation', status: 'warn', detail: `${detail}; ${shared.length ? `it stays in the host's cgroup of ${shared.join(' ')}, not mounted below ${cg.root}` : 'the devices controller is not mounted'}`, fix: `mount every hierarchy below ${cg.root}, or boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2` };
    }
    return { name: 'cgroup isolation', status: 'ok', detail };
  } catch (err) {
    return { name: 'cgroup isolation', status: 'fail', detail: (err as Error).message, fix: 'mount cgroup2 at /sys/fs/cgroup' };
  }
}
