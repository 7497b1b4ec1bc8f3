import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCI, OCI_CGROUP_PARENT, busyboxRootfs, ensurePackages, removeCgroupTree } from '../support/oci.js';

/**
 * podman (Debian's 4.3, through conmon) runs an imported busybox image with `--runtime corral-oci`:
 * run, logs, exec (with and without a tty, through conmon's console socket), stop, rm. Storage,
 * run root and containers.conf are the test's own; so is the cgroup parent.
 */
describe.skipIf(process.getuid?.() !== 0)('corral-oci under podman', () => {
  let work: string;
  let conf: string;
  const parent = `/${OCI_CGROUP_PARENT}-podman`;
  const image = `localhost/corral-oci-it-${process.pid}`;

  const podman = (args: string[], opts: { reject?: boolean } = {}) =>
    execa('podman', ['--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--runtime', 'corral', '--cgroup-manager', 'cgroupfs', ...args], {
      env: { CONTAINERS_CONF: conf },
      reject: opts.reject ?? true,
      stdin: 'ignore',
    });

  beforeAll(async () => {
    await ensurePackages({ podman: 'podman', conmon: 'conmon' });
    work = await mkdtemp(join(tmpdir(), 'corral-oci-podman-'));
    conf = join(work, 'containers.conf');
    // Root lacks CAP_SYS_RESOURCE here, so podman's default ulimits (raised nofile) cannot be set;
    // conmon runs the runtime with an environment of its own, so this is the one place to say it.
    await writeFile(conf, [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      '[engine.runtimes]',
      `corral = ["${OCI}"]`,
      '',
    ].join('\n'));
    const tar = join(work, 'busybox.tar');
    await execa('tar', ['-C', await busyboxRootfs(), '-cf', tar, '.']);
    await podman(['import', '-q', tar, image]);
  });

  afterAll(async () => {
    if (!work) return;
    await podman(['rm', '-af', '-t', '0'], { reject: false });
    await podman(['system', 'reset', '-f'], { reject: false });
    removeCgroupTree(parent.slice(1));
    await rm(work, { recursive: true, force: true });
  });

  it('runs, logs, execs into, stops and removes a container', async () => {
    const name = `c-${process.pid}`;
    const run = await podman(['run', '-d', '--name', name, '--network', 'none', '--cgroup-parent', parent, '--memory', '64m', image, 'sh', '-c', 'echo hello from corral-oci; exec sleep 1000']);
    const cid = run.stdout.trim();
    const inspect = JSON.parse((await podman(['inspect', name])).stdout)[0];
    expect(inspect.OCIRuntime).toBe('corral');
    expect(inspect.State.Running).toBe(true);
    const pid: number = inspect.State.Pid;
    // The process is the one corral-oci created, in the cgroup podman asked for, with the limit.
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`${parent}/libpod-${cid}`);
    expect(readFileSync(`/sys/fs/cgroup/memory${parent}/libpod-${cid}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(64 * 1024 * 1024));

    for (let delay = 10; !(await podman(['logs', name])).stdout.includes('hello'); delay = Math.min(delay * 2, 500)) await new Promise((r) => setTimeout(r, delay));
    expect((await podman(['logs', name])).stdout).toBe('hello from corral-oci');

    const ex = await podman(['exec', name, 'sh', '-c', 'echo "in $(hostname) as $(id -u)"; cat /proc/1/cmdline | tr "\\0" " "']);
    expect(ex.stdout).toBe(`in ${cid.slice(0, 12)} as 0\nsleep 1000 `);
    expect((await podman(['exec', name, 'sh', '-c', 'exit 3'], { reject: false })).exitCode).toBe(3);
    // A tty: conmon hands corral-oci a console socket, and gets the pty master back over it.
    expect((await podman(['exec', '-t', name, 'tty'])).stdout.trim()).toMatch(/^\/dev\/pts\/\d+$/);

    await podman(['stop', '-t', '1', name]);
    const stopped = JSON.parse((await podman(['inspect', name])).stdout)[0];
    expect(stopped.State.Running).toBe(false);
    expect(stopped.State.ExitCode).toBe(137); // sleep as PID 1 ignores SIGTERM
    await podman(['rm', name]);
    expect((await podman(['ps', '-aq'])).stdout).toBe('');
    expect(() => execFileSync('ls', [`/sys/fs/cgroup/memory${parent}/libpod-${cid}`], { stdio: 'ignore' })).toThrow();
  });

  it('runs with a tty through the console socket, and reports the exit code', async () => {
    const r = await podman(['run', '--rm', '-t', '--network', 'none', '--cgroup-parent', parent, image, 'sh', '-c', 'tty; exit 4'], { reject: false });
    expect(r.exitCode).toBe(4);
    expect(r.stdout.trim()).toMatch(/^\/dev\/pts\/\d+$/);
  });
});
