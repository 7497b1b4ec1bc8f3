import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON, ROOT, corralWith, daemonArgs, type CliResult, type TestInstallation } from '../support/installation.js';
import { spoofScenario } from '../support/spoof-scenario.js';
import { CGROUP_ROOT, mountExt4, rmdirCgroup, seedTemplate, startCorrald, teardown, unmountExt4, vmState, type Corrald } from './support.js';

/**
 * Issue 10's crossings, tried as container root would, with DEFAULT flags (a private user namespace,
 * the default seccomp profile) on cgroup v2 and Debian 12's 6.1 kernel. The tier's other files run
 * corrald with --default-userns host, since their data roots are on the VM's tmpfs, which 6.1
 * cannot idmap; this one puts its data root on an ext4 image (mountExt4), which 6.1 idmaps. CLI
 * calls are slow under TCG, so each container tries several things.
 */
const base = join(vmState(), `attacks-${process.pid}`);
const image = join(base, 'data.ext4');
const inst: TestInstallation = { dataRoot: join(base, 'data'), runRoot: join(base, 'run'), cgroupParent: `corral-vmatk-${process.pid}` };
const parentDir = join(CGROUP_ROOT, inst.cgroupParent);
const probe = join(base, 'seccomp-probe');
const volume = join(base, 'vol');
const spoofDir = join(base, 'spoof');
const children: ChildProcess[] = [];
const made: string[] = [];
let daemon: Corrald | undefined;

async function corral(args: string[]): Promise<CliResult> {
  return corralWith(inst, args, { timeoutMs: 180_000 });
}

/** `NAME ERRNO` lines of test/native/seccomp-probe.c, as a record. */
function errnos(out: string): Record<string, number> {
  const r: Record<string, number> = {};
  for (const m of out.matchAll(/^([a-z_0-9]+) (\d+)$/gm)) r[m[1]!] = Number(m[2]);
  return r;
}

beforeAll(async () => {
  mkdirSync(base, { recursive: true });
  await mountExt4(image, inst.dataRoot);
  await seedTemplate(inst.dataRoot);
  await execa('gcc', ['-static', '-O2', '-o', probe, join(ROOT, 'test/native/seccomp-probe.c')]);
  // Container root is an unprivileged host uid (its user namespace): the directory must be open to it.
  mkdirSync(spoofDir, { mode: 0o755 });
  chmodSync(spoofDir, 0o755);
  await execa('gcc', ['-static', '-O2', '-o', join(spoofDir, 'spoof'), join(ROOT, 'test/integration/fixtures/spoof.c')]);
  // The flag beats CORRAL_DEFAULT_USERNS=host, which guest-init sets for the rest of the tier.
  daemon = await startCorrald(inst, [process.execPath, DAEMON, ...daemonArgs(inst), '--default-userns', 'private', '--log-level', 'debug'], 300_000);
}, 900_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (made.length > 0) await corral(['rm', '-f', ...made]);
  await teardown(inst, daemon, [() => rmdirCgroup(parentDir), () => unmountExt4(image, inst.dataRoot), () => rm(base, { recursive: true, force: true })]);
}, 900_000);

describe('a hostile tenant with default flags, on cgroup v2 and kernel 6.1 (private user namespace on ext4)', () => {
  it('is an unprivileged host uid, cannot make a nested user namespace, and cannot reach any keyring', async () => {
    const script = 'cat /proc/self/uid_map; /probe; unshare -U -r true 2>&1; echo unshare=$?';
    const r = await corral(['run', '--name', 'ns', '--network', 'none', '-v', `${probe}:/probe:ro`, 'busybox', 'sh', '-c', script]);
    console.log(r.stdout, r.stderr);
    expect(r.exitCode).toBe(0);
    const i = JSON.parse((await corral(['inspect', 'ns'])).stdout)[0];
    expect(i.config.userns).toMatchObject({ mode: 'private', size: 65_536 });
    const uidBase: number = i.config.userns.uidBase;
    expect(uidBase).toBeGreaterThanOrEqual(1_000_000);
    expect(r.stdout.split('\n')[0]!.trim().split(/\s+/).map(Number)).toEqual([0, uidBase, 65_536]);
    const e = errnos(r.stdout);
    // EPERM (1) from the seccomp profile: no keyring (host root's or a neighbour's), no new user namespace.
    expect(e).toMatchObject({ keyctl: 1, add_key: 1, request_key: 1, unshare_user: 1, clone_newuser: 1, getpid: 0 });
    expect(r.stdout).toMatch(/unshare.*: Operation not permitted/);
    expect(r.stdout).toMatch(/unshare=[1-9]/);
    expect((await corral(['rm', 'ns'])).exitCode).toBe(0);
  }, 600_000);

  it('with CAP_SYS_ADMIN still cannot lift its limits, freeze or see host cgroups, or mount a v1 freezer', async () => {
    const script = [
      'echo cg=$(cat /proc/self/cgroup)',
      'mkdir /tmp/c /tmp/f && mount -t cgroup2 none /tmp/c || echo mount-failed',
      'echo dirs=$(find /tmp/c -mindepth 1 -type d | wc -l)',
      'echo max > /tmp/c/memory.max 2>&1; echo max > /tmp/c/pids.max 2>&1; echo "max 100000" > /tmp/c/cpu.max 2>&1',
      'echo 1 > /tmp/c/cgroup.freeze 2>&1; echo freeze=$?',
      'mount -t cgroup -o freezer cg /tmp/f 2>&1 && echo v1-freezer-mounted',
      // A nested user namespace (allowed with CAP_SYS_ADMIN) gains nothing over the cgroup files either.
      'unshare -U -r -m sh -c "echo max > /tmp/c/memory.max" 2>&1; echo nested=$?',
      'dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo dd=$?',
      'echo attack-done',
    ].join('; ');
    const r = await corral(['run', '--name', 'cg', '--network', 'none', '--cap-add', 'SYS_ADMIN', '-m', '64m', '--memory-swap', '64m', '--pids-limit', '32', '--cpus', '0.5', 'busybox', 'sh', '-c', script]);
    const out = r.stdout;
    console.log(out, r.stderr);
    expect(out).toContain('attack-done');
    // Its cgroup namespace is rooted at its own cgroup, with nothing of the host's or a neighbour's below.
    expect(out).toContain('cg=0::/');
    expect(out).not.toContain('mount-failed');
    expect(out).toContain('dirs=0');
    // The files are host root's, which is unmapped in its user namespace.
    expect(out).toMatch(/memory\.max: Permission denied/);
    expect(out).toMatch(/freeze=[1-9]/);
    expect(out).not.toContain('v1-freezer-mounted');
    expect(out).toMatch(/nested=[1-9]/);
    // OOM-killed at the 64 MiB written on its parent cgroup.
    expect(out).toContain('dd=137');
    const i = JSON.parse((await corral(['inspect', 'cg'])).stdout)[0];
    const dir: string = i.cgroup.paths[0];
    expect(dir).toBe(join(parentDir, i.id));
    // Gone by now with the container; what it tried to write was refused before that (above).
    expect(i.limits.find((l: { file: string }) => l.file === join(dir, 'memory.max'))).toMatchObject({ value: String(64 * 2 ** 20) });
    expect(readFileSync(join(parentDir, 'cgroup.freeze'), 'utf8').trim()).toBe('0');
    expect((await corral(['rm', 'cg'])).exitCode).toBe(0);
  }, 600_000);

  it('a setuid-root file it writes into a volume is setuid to an unprivileged host uid', async () => {
    mkdirSync(volume);
    chmodSync(volume, 0o777);
    // Named `id`: busybox picks its applet by name.
    const script = 'cp /bin/busybox /v/id && chown 0:0 /v/id && chmod 4755 /v/id && ls -ln /v/id';
    const r = await corral(['run', '--name', 'vol', '--network', 'none', '-v', `${volume}:/v`, 'busybox', 'sh', '-c', script]);
    expect(r.exitCode).toBe(0);
    // Inside, it looks like root's setuid file...
    expect(r.stdout).toMatch(/^-rwsr-xr-x\s+1 0\s+0 /);
    const i = JSON.parse((await corral(['inspect', 'vol'])).stdout)[0];
    // ...on the host it belongs to the container's range.
    const st = statSync(join(volume, 'id'));
    expect(st.uid).toBe(i.config.userns.uidBase);
    expect(st.gid).toBe(i.config.userns.gidBase);
    expect(st.mode & 0o4000).toBe(0o4000);
    // An unprivileged host user running it does not become root.
    const who = await execa('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', join(volume, 'id'), '-u']);
    expect(who.stdout.trim()).not.toBe('0');
    expect((await corral(['rm', 'vol'])).exitCode).toBe(0);
  }, 600_000);

  it('on the default bridge, cannot spoof ARP or IP as the gateway or a neighbour, nor steal a MAC', async () => {
    await spoofScenario({ corral, runRoot: inst.runRoot, spoofDir, port: 17_000 + (process.pid % 1000), children, made, waitMs: 120_000 }, 'vm');
  }, 900_000);
});
