import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON, corralWith, type CliResult, type TestInstallation } from '../support/installation.js';
import { CGROUP_ROOT, alive, cpuShare, rmdirCgroup, seedTemplate, startCorrald, stopPid, teardown, vmState, words, type Corrald } from './support.js';

/**
 * The privileged-Docker layout, reproduced: a cgroup `/dind-<pid>` with the controllers enabled
 * for it, a shell moved into it that unshares a cgroup and a mount namespace (so `/dind-<pid>` is
 * its cgroup namespace root) and remounts cgroup2 at /sys/fs/cgroup, as Docker does with
 * `--cgroupns=private`. A sleeping process stays in the namespace root, as the container's PID 1
 * would, and corrald starts there too. cgroup v2's no-internal-process rule then refuses to enable
 * controllers in the namespace root (EBUSY) until Corral moves those processes into `init`.
 */
const CONTROLLERS = ['cpu', 'memory', 'pids', 'cpuset', 'io'];
const outer = join(CGROUP_ROOT, `dind-${process.pid}`);
const base = join(vmState(), `dind-${process.pid}`);
const inst: TestInstallation = { dataRoot: join(base, 'data'), runRoot: join(base, 'run'), cgroupParent: 'corral-dind' };
const sleeperFile = join(base, 'sleeper.pid');
let daemon: Corrald | undefined;
let sleeper = 0;

/** Runs in `outer`, then becomes (by exec) the namespace's shell, then corrald. */
const OUTER = 'echo $$ > "$1/cgroup.procs" || exit 90; shift; exec unshare --cgroup --mount --propagation private -- sh -c "$@"';
const INNER = [
  'umount /sys/fs/cgroup || exit 91',
  'mount -t cgroup2 none /sys/fs/cgroup || exit 92',
  'sleep 1000000 </dev/null >/dev/null 2>&1 &',
  'echo $! > "$1"',
  'exec "$2" "$3" --data-root "$4" --run-root "$5" --cgroup-parent "$6" --log-level debug',
].join('\n');

async function corral(args: string[]): Promise<CliResult> {
  return corralWith(inst, args, { timeoutMs: 120_000 });
}

async function ok(args: string[]): Promise<string> {
  const r = await corral(args);
  if (r.exitCode !== 0) throw new Error(`corral ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}${r.stdout}\ncorrald stderr:\n${daemon?.stderr()}`);
  return r.stdout;
}

async function inspect(name: string): Promise<any> {
  return JSON.parse(await ok(['inspect', name]))[0];
}

/** A command run inside the namespaces (mount and cgroup) of the sleeping "PID 1". */
async function inside(cmd: string[]): Promise<string> {
  return (await execa('nsenter', ['-t', String(sleeper), '--mount', '--cgroup', ...cmd])).stdout;
}

const pids = (dir: string) => words(join(dir, 'cgroup.procs')).map(Number);

beforeAll(async () => {
  await mkdir(outer);
  // The controllers the container gets from its parent (the VM's root enables them all already).
  const enabled = words(join(CGROUP_ROOT, 'cgroup.subtree_control'));
  for (const c of CONTROLLERS.filter((c) => !enabled.includes(c))) await writeFile(join(CGROUP_ROOT, 'cgroup.subtree_control'), `+${c}`);
  await seedTemplate(inst.dataRoot);
  daemon = await startCorrald(inst, ['sh', '-c', OUTER, 'sh', outer, INNER, 'dind', sleeperFile, process.execPath, DAEMON, inst.dataRoot, inst.runRoot, inst.cgroupParent]);
  sleeper = Number(readFileSync(sleeperFile, 'utf8'));
}, 240_000);

afterAll(async () => {
  if (!sleeper && existsSync(sleeperFile)) sleeper = Number(readFileSync(sleeperFile, 'utf8'));
  await teardown(inst, daemon, [
    async () => {
      if (sleeper) await stopPid(sleeper, 'SIGKILL');
    },
    () => rmdirCgroup(join(outer, inst.cgroupParent)),
    () => rmdirCgroup(join(outer, 'init')),
    () => rmdirCgroup(outer),
    () => rm(base, { recursive: true, force: true }),
  ]);
}, 240_000);

describe('inside privileged Docker with a private cgroup namespace (reproduced)', () => {
  it('starts corrald in a cgroup namespace root that holds processes', async () => {
    expect(words(join(outer, 'cgroup.controllers'))).toEqual(expect.arrayContaining(CONTROLLERS));
    expect(pids(outer).sort()).toEqual([daemon!.pid, sleeper].sort());
    expect(words(join(outer, 'cgroup.subtree_control'))).toEqual([]);
    // Inside, that cgroup is the root of what corrald sees, and it is not the real root.
    expect(await inside(['cat', `/proc/${sleeper}/cgroup`, `/proc/${daemon!.pid}/cgroup`])).toBe('0::/\n0::/');
    expect(await inside(['cat', '/sys/fs/cgroup/cgroup.type'])).toBe('domain');
    // What the kernel answers anyone enabling a controller there (dash would only say "I/O error").
    const write = `try { require('fs').writeFileSync('/sys/fs/cgroup/cgroup.subtree_control', '+memory') } catch (e) { console.log(e.code) }`;
    expect(await inside([process.execPath, '-e', write])).toBe('EBUSY');
  });

  it('moves them into init on the first start, logs it, and gets every controller for the container', async () => {
    await ok(['run', '-d', '--name', 'lim', '--memory', '32m', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done']);
    expect(pids(outer)).toEqual([]);
    expect(pids(join(outer, 'init'))).toEqual(expect.arrayContaining([daemon!.pid, sleeper]));
    expect(words(join(outer, 'cgroup.subtree_control'))).toEqual(expect.arrayContaining(CONTROLLERS));
    expect(words(join(outer, inst.cgroupParent, 'cgroup.subtree_control'))).toEqual(expect.arrayContaining(CONTROLLERS));
    expect(readFileSync(`/proc/${daemon!.pid}/cgroup`, 'utf8').trim()).toBe(`0::/dind-${process.pid}/init`);
    // The cgroup driver's warnings go to corrald's log (JSON lines), read both to be sure.
    const logFile = join(inst.runRoot, 'corrald.log');
    const log = daemon!.stderr() + (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    console.log(log.trim());
    expect(log).toMatch(new RegExp(`moved 2 processes out of /sys/fs/cgroup into the leaf /sys/fs/cgroup/init: .*\\b${daemon!.pid} \\([^)]*\\) \\(corrald\\)`));
    expect(log).toMatch(new RegExp(`\\b${sleeper} \\(sleep\\)`));
  }, 120_000);

  it('enforces --memory 32m and --cpus 0.5 there (memory.max, cpu.max inside the namespace)', async () => {
    const i = await inspect('lim');
    const dir = i.cgroup.paths[0];
    expect(dir).toBe(`/sys/fs/cgroup/${inst.cgroupParent}/${i.id}`);
    expect(await inside(['cat', join(dir, 'memory.max'), join(dir, 'cpu.max'), `/proc/${i.state.pid}/cgroup`])).toBe(
      `33554432\n50000 100000\n0::/${inst.cgroupParent}/${i.id}/payload`,
    );
    const outside = join(outer, inst.cgroupParent, i.id);
    expect(readFileSync(`/proc/${i.state.pid}/cgroup`, 'utf8').trim()).toBe(`0::/dind-${process.pid}/${inst.cgroupParent}/${i.id}/payload`);
    const share = await cpuShare(outside, 3000);
    console.log(`dind --cpus 0.5: ${share.toFixed(3)} of a CPU over 3 s`);
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    await ok(['rm', '-f', 'lim']);
    expect(existsSync(outside)).toBe(false);
  }, 120_000);

  it('OOM-kills dd there and reports it, corrald unharmed', async () => {
    const r = await corral(['run', '--name', 'oom', '-m', '32m', '--memory-swap', '32m', '--cpus', '0.5', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=128M', 'count=1']);
    expect(r.exitCode).toBe(137);
    const i = await inspect('oom');
    expect(i.state).toMatchObject({ status: 'exited', exitCode: 137, oomKilled: true });
    expect(i.state.oomMessage).toMatch(/memory\.max = 33554432 bytes/);
    expect(alive(daemon!.pid)).toBe(true);
    expect(alive(sleeper)).toBe(true);
    await ok(['rm', 'oom']);
  }, 120_000);
});
