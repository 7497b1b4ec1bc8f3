import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerArchive } from '../support/docker-archive.js';
import { OCI, alivePid, busyboxRootfs, ensurePackages, removeCgroupTree, untilDead } from '../support/oci.js';

/**
 * containerd 1.6 (Debian's) with a private root, state, socket and config, its runc shim running
 * corral-oci: `ctr run --runc-binary` of an imported docker-archive, exec, kill, delete. The same
 * config carries the CRI runtime handler of docs/kubernetes.md, which containerd must load.
 */
describe.skipIf(process.getuid?.() !== 0)('corral-oci under containerd', () => {
  let work: string;
  let containerd: ChildProcess | undefined;
  // The namespace names the cgroup parent (/<ns>/<id>) and the shim's runtime root: this run's own.
  const ns = `corral-oci-it-${process.pid}-ctr`;
  const image = `localhost/corral-oci-it-${process.pid}:latest`;
  const sock = (): string => join(work, 'containerd.sock');
  const ctr = (args: string[], opts: { reject?: boolean } = {}) => execa('ctr', ['--address', sock(), '-n', ns, ...args], { reject: opts.reject ?? true, stdin: 'ignore' });

  beforeAll(async () => {
    await ensurePackages({ containerd: 'containerd', ctr: 'containerd' });
    work = await mkdtemp(join(tmpdir(), 'corral-oci-ctr-'));
    const config = join(work, 'config.toml');
    await writeFile(config, [
      'version = 2',
      `root = "${work}/root"`,
      `state = "${work}/state"`,
      '[grpc]',
      `  address = "${sock()}"`,
      '[ttrpc]',
      `  address = "${sock()}.ttrpc"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      '  disable_tcp_service = true',
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    conf_dir = "${work}/cni"`,
      // docs/kubernetes.md: the runtime handler `corral`, beside the default runc.
      '  [plugins."io.containerd.grpc.v1.cri".containerd]',
      '    default_runtime_name = "runc"',
      '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '    runtime_type = "io.containerd.runc.v2"',
      '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.corral]',
      '    runtime_type = "io.containerd.runc.v2"',
      '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.corral.options]',
      `    BinaryName = "${OCI}"`,
      '    SystemdCgroup = false',
      '',
    ].join('\n'));
    const log = openSync(join(work, 'containerd.log'), 'a');
    containerd = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    // Up when its socket answers.
    for (let delay = 10; ; delay = Math.min(delay * 2, 500)) {
      if (existsSync(sock()) && (await execa('ctr', ['--address', sock(), 'version'], { reject: false })).exitCode === 0) break;
      if (containerd.exitCode !== null) throw new Error(`containerd exited: ${readFileSync(join(work, 'containerd.log'), 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, delay));
    }
    const archive = join(work, 'busybox.tar');
    await dockerArchive(await busyboxRootfs(), archive, image);
    await ctr(['images', 'import', archive]);
  });

  afterAll(async () => {
    if (!work) return;
    if (containerd?.pid && alivePid(containerd.pid)) {
      for (const id of (await ctr(['tasks', 'ls', '-q'], { reject: false })).stdout.split('\n').filter(Boolean)) {
        await ctr(['tasks', 'kill', '-s', 'SIGKILL', id], { reject: false });
        await ctr(['tasks', 'delete', '-f', id], { reject: false });
      }
      for (const id of (await ctr(['containers', 'ls', '-q'], { reject: false })).stdout.split('\n').filter(Boolean)) await ctr(['containers', 'delete', id], { reject: false });
      await ctr(['images', 'rm', image], { reject: false });
      process.kill(containerd.pid, 'SIGTERM');
      await untilDead(containerd.pid);
    }
    await rm(`/run/containerd/runc/${ns}`, { recursive: true, force: true });
    removeCgroupTree(ns);
    await rm(work, { recursive: true, force: true });
  });

  it('loads the CRI runtime handler for corral-oci', async () => {
    const plugins = (await execa('ctr', ['--address', sock(), 'plugins', 'ls'])).stdout;
    expect(plugins).toMatch(/io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok/);
    expect(readFileSync(join(work, 'containerd.log'), 'utf8')).toContain(`corral:{Type:io.containerd.runc.v2`);
  });

  it('runs, execs into, kills and deletes a task through the runc shim', async () => {
    const id = `t-${process.pid}`;
    await ctr(['run', '-d', '--runc-binary', OCI, image, id, 'sh', '-c', 'echo started > /started; exec sleep 1000']);
    const task = (await ctr(['tasks', 'ls'])).stdout;
    expect(task).toMatch(new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    const pid = Number(new RegExp(`${id}\\s+(\\d+)`).exec(task)![1]);
    // corral-oci's record, under the shim's runtime root.
    expect(existsSync(`/run/containerd/runc/${ns}/${id}/state.json`)).toBe(true);
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`/${ns}/${id}`);

    const ex = await ctr(['tasks', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'cat /started; cat /proc/1/cmdline | tr "\\0" " "']);
    expect(ex.stdout).toBe('started\nsleep 1000 ');
    expect((await ctr(['tasks', 'exec', '--exec-id', 'e2', id, 'sh', '-c', 'exit 5'], { reject: false })).exitCode).toBe(5);

    await ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
    await untilDead(pid);
    for (let delay = 10; !/STOPPED/.test((await ctr(['tasks', 'ls'])).stdout); delay = Math.min(delay * 2, 500)) await new Promise((r) => setTimeout(r, delay));
    await ctr(['tasks', 'delete', id]);
    await ctr(['containers', 'delete', id]);
    expect(existsSync(`/run/containerd/runc/${ns}/${id}`)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory/${ns}/${id}`)).toBe(false);
  });
});
