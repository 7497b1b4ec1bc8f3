import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConflictError, InvalidStateError, ValidationError } from '../../errors.js';
import { ALL_CAPABILITIES } from '../../security/capabilities.js';
import { SECCOMP_ARCHES } from '../../security/seccomp-profile.js';
import { bool, parseFlags, str } from '../args.js';
import { applyResources, cgroupPids, cgroupStats, shimDevices } from '../cgroups.js';
import type { Context } from '../context.js';
import type { OciResources } from '../spec.js';
import { cgroupsOf, checkId, listIds, loadRecord, OCI_VERSION, statusOf } from '../state.js';
import { defaultSpec } from '../default-spec.js';

/** `ps [--format table|json] ID [PS_ARGS...]`. */
export async function ps(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { value: ['format'], alias: { f: 'format' } }, 'ps');
  const id = checkId(p.rest[0]);
  const r = loadRecord(ctx.root, id);
  const pids = cgroupPids(cgroupsOf(r));
  if ((str(p, 'format') ?? 'table') === 'json') {
    ctx.out(`${JSON.stringify(pids)}\n`);
    return 0;
  }
  const psArgs = p.rest.length > 1 ? p.rest.slice(1) : ['-ef'];
  const text = await new Promise<string>((res, rej) => execFile('ps', psArgs, { encoding: 'utf8' }, (err, out) => (err ? rej(err) : res(out))));
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new ValidationError('ps: the ps output has no PID column');
  const keep = new Set(pids);
  ctx.out(`${[header, ...lines.slice(1).filter((l) => keep.has(Number(l.trim().split(/\s+/)[col])))].join('\n')}\n`);
  return 0;
}

/** `update [--resources FILE|-] [--memory N] [--cpu-quota N] … ID`. */
export async function update(ctx: Context, argv: string[], readStdin: () => string): Promise<number> {
  const p = parseFlags(argv, {
    value: ['resources', 'memory', 'memory-reservation', 'memory-swap', 'cpu-quota', 'cpu-period', 'cpu-share', 'cpuset-cpus', 'cpuset-mems', 'pids-limit', 'blkio-weight'],
    alias: { r: 'resources' },
  }, 'update');
  const id = checkId(p.rest[0]);
  const r = loadRecord(ctx.root, id);
  if (statusOf(ctx.root, r) === 'stopped') throw new InvalidStateError(`update ${id}: container is stopped`);
  const file = str(p, 'resources');
  let res: OciResources = {};
  if (file) {
    try {
      res = JSON.parse(file === '-' ? readStdin() : readFileSync(resolve(file), 'utf8')) as OciResources;
    } catch (err) {
      throw new ValidationError(`update --resources ${file}: ${(err as Error).message}`);
    }
  }
  const n = (name: string): number | undefined => (str(p, name) === undefined ? undefined : Number(str(p, name)));
  const mem = { limit: n('memory'), reservation: n('memory-reservation'), swap: n('memory-swap') };
  const cpu = { quota: n('cpu-quota'), period: n('cpu-period'), shares: n('cpu-share'), cpus: str(p, 'cpuset-cpus'), mems: str(p, 'cpuset-mems') };
  const drop = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  res.memory = { ...res.memory, ...drop(mem) };
  res.cpu = { ...res.cpu, ...drop(cpu) };
  if (n('pids-limit') !== undefined) res.pids = { limit: n('pids-limit')! };
  if (n('blkio-weight') !== undefined) res.blockIO = { weight: n('blkio-weight')! };
  await applyResources(cgroupsOf(r), res, shimDevices(ctx.shim), false);
  return 0;
}

/** `events [--stats] [--interval D] ID`: stats as JSON, once (--stats) or every interval while it runs. */
export async function events(ctx: Context, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { bool: ['stats'], value: ['interval'] }, 'events');
  const id = checkId(p.rest[0]);
  const r = loadRecord(ctx.root, id);
  const seconds = Number(/^(\d+(?:\.\d+)?)s?$/.exec(str(p, 'interval') ?? '5s')?.[1] ?? 5);
  for (;;) {
    if (statusOf(ctx.root, r) === 'stopped') throw new InvalidStateError(`events ${id}: container is stopped`);
    ctx.out(`${JSON.stringify({ type: 'stats', id, data: cgroupStats(cgroupsOf(r)) })}\n`);
    if (bool(p, 'stats')) return 0;
    await new Promise((res) => setTimeout(res, seconds * 1000));
  }
}

/** `list [--format table|json] [-q]`. */
export function listCmd(ctx: Context, argv: string[]): number {
  const p = parseFlags(argv, { bool: ['quiet'], value: ['format'], alias: { q: 'quiet', f: 'format' } }, 'list');
  const rows = listIds(ctx.root).map((id) => {
    const r = loadRecord(ctx.root, id);
    const status = statusOf(ctx.root, r);
    return { ociVersion: OCI_VERSION, id, pid: status === 'stopped' ? 0 : r.pid, status, bundle: r.bundle, rootfs: r.rootfs, created: r.created, owner: 'root' };
  });
  if (bool(p, 'quiet')) ctx.out(rows.map((r) => `${r.id}\n`).join(''));
  else if (str(p, 'format') === 'json') ctx.out(`${JSON.stringify(rows)}\n`);
  else ctx.out(['ID PID STATUS BUNDLE CREATED', ...rows.map((r) => `${r.id} ${r.pid} ${r.status} ${r.bundle} ${r.created}`)].join('\n') + '\n');
  return 0;
}

/** `features`: what this runtime implements (runtime-spec features.md). */
export function features(ctx: Context): number {
  ctx.out(`${JSON.stringify({
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'poststart', 'poststop'],
    mountOptions: ['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'dirsync', 'remount', 'mand', 'nomand', 'atime', 'noatime', 'diratime', 'nodiratime', 'bind', 'rbind', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: ALL_CAPABILITIES.map((c) => `CAP_${c}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        archs: Object.keys(SECCOMP_ARCHES),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'io.github.corral.oci.shim': 'corral-shim' },
  }, null, 2)}\n`);
  return 0;
}

/** `spec [--bundle B]`: write a default config.json (runc's template: sh in busybox-like rootfs). */
export function specCmd(_ctx: Context, argv: string[]): number {
  const p = parseFlags(argv, { bool: ['rootless'], value: ['bundle'], alias: { b: 'bundle' } }, 'spec');
  if (bool(p, 'rootless')) throw new ValidationError('spec --rootless: not supported (corral-oci runs as root)');
  const file = join(resolve(str(p, 'bundle') ?? '.'), 'config.json');
  if (existsSync(file)) throw new ConflictError(`spec: ${file} already exists; remove it first`);
  writeFileSync(file, `${JSON.stringify(defaultSpec(), null, '\t')}\n`);
  return 0;
}
