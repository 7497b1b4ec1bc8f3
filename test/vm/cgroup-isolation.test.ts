import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corralWith, type CliResult, type TestInstallation } from '../support/installation.js';
import { CGROUP_ROOT, rmdirCgroup, seedTemplate, startCorrald, teardown, vmState, type Corrald } from './support.js';

/**
 * test/integration/cgroup-isolation.test.ts on cgroup v2: limits on the container's cgroup, its
 * processes in the child `payload` (its cgroup namespace root), and the BPF device program
 * refusing a device node container root makes. One container does it all (CLI calls are slow here).
 */
const base = join(vmState(), `cgiso-${process.pid}`);
const inst: TestInstallation = { dataRoot: join(base, 'data'), runRoot: join(base, 'run'), cgroupParent: `corral-vmiso-${process.pid}` };
const parentDir = join(CGROUP_ROOT, inst.cgroupParent);
let daemon: Corrald | undefined;

async function corral(args: string[]): Promise<CliResult> {
  return corralWith(inst, args, { timeoutMs: 180_000 });
}

beforeAll(async () => {
  await seedTemplate(inst.dataRoot);
  daemon = await startCorrald(inst);
}, 900_000);

afterAll(async () => {
  await teardown(inst, daemon, [() => rmdirCgroup(parentDir), () => rm(base, { recursive: true, force: true })]);
}, 900_000);

const read = (file: string) => readFileSync(file, 'utf8').trim();

describe(`cgroups a container cannot reach, on cgroup v2 (parent ${inst.cgroupParent})`, () => {
  it('keeps limits above what container root can mount and write, and refuses devices outside its /dev', async () => {
    // The host's / is 9p here; a device the container's /dev lacks: /dev/kmsg (c 1:11).
    const script = [
      'echo cg=$(cat /proc/self/cgroup)',
      'mkdir /tmp/c && mount -t cgroup2 none /tmp/c || echo mount-failed',
      'echo max > /tmp/c/memory.max; echo max > /tmp/c/pids.max; echo "max 100000" > /tmp/c/cpu.max',
      'dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo dd=$?',
      'mkdir /tmp/d && mount -t tmpfs -o dev none /tmp/d && mknod /tmp/d/kmsg c 1 11 2>&1 && echo kmsg-made',
      'mknod /tmp/d/null c 1 3 && echo x > /tmp/d/null && echo null-ok',
      'echo attack-done',
    ].join('; ');
    const r = await corral(['run', '--name', 'iso', '--cap-add', 'SYS_ADMIN', '-m', '64m', '--memory-swap', '64m', '--pids-limit', '32', '--cpus', '0.5', 'busybox', 'sh', '-c', script]);
    const out = r.stdout;
    console.log(out);
    expect(out).toContain('attack-done');
    // Its cgroup namespace is rooted at its own cgroup.
    expect(out).toContain('cg=0::/');
    expect(out).not.toContain('mount-failed');
    // OOM-killed at the parent's 64 MiB whatever was written inside.
    expect(out).toContain('dd=137');
    expect(out).not.toContain('kmsg-made');
    expect(out).toMatch(/mknod: \/tmp\/d\/kmsg: Operation not permitted/);
    expect(out).toContain('null-ok');
    const i = JSON.parse((await corral(['inspect', 'iso'])).stdout)[0];
    expect(i.state.oomKilled).toBe(true);
    expect(i.cgroup.paths).toEqual([join(parentDir, i.id)]);
    expect(i.cgroup.processes).toEqual([join(parentDir, i.id, 'payload')]);
    expect(i.limits.find((l: { limit: string }) => l.limit === 'devices')).toMatchObject({ file: join(parentDir, i.id), value: expect.stringContaining('c 136:* rwm') });
    expect((await corral(['rm', 'iso'])).exitCode).toBe(0);
    expect(existsSync(join(parentDir, i.id))).toBe(false);
  }, 600_000);

  it('holds the limits on the parent while a container runs (read from the host)', async () => {
    const r = await corral(['run', '-d', '--name', 'held', '--cap-add', 'SYS_ADMIN', '-m', '64m', 'busybox', 'sh', '-c', 'mkdir /tmp/c; mount -t cgroup2 none /tmp/c; echo max > /tmp/c/memory.max; exec sleep 600']);
    expect(r.exitCode).toBe(0);
    const i = JSON.parse((await corral(['inspect', 'held'])).stdout)[0];
    const dir = i.cgroup.paths[0];
    expect(read(join(dir, 'memory.max'))).toBe(String(64 * 2 ** 20));
    expect(read(join(dir, 'cgroup.procs'))).toBe('');
    expect(read(join(dir, 'payload', 'cgroup.procs')).split('\n')).toContain(String(i.state.pid));
    expect(read(`/proc/${i.state.pid}/cgroup`)).toBe(`0::/${inst.cgroupParent}/${i.id}/payload`);
    expect((await corral(['rm', '-f', 'held'])).exitCode).toBe(0);
  }, 300_000);
});
