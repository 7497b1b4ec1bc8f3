import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { corral } from './corral.js';
import { ROOT } from './installation.js';

/** Helpers for the tests that drive corral-oci directly or through podman and containerd. */

export const OCI = join(ROOT, 'bin/corral-oci');

/** A cgroup parent of this run's own: every test container's cgroupsPath is below it. */
export const OCI_CGROUP_PARENT = `corral-oci-it-${process.pid}`;

/** Debian packages the test drives (references and clients, not dependencies of Corral). */
export async function ensurePackages(commands: Record<string, string>): Promise<void> {
  const missing: string[] = [];
  for (const [cmd, pkg] of Object.entries(commands)) if ((await execa('sh', ['-c', `command -v ${cmd}`], { reject: false })).exitCode !== 0) missing.push(pkg);
  if (missing.length === 0) return;
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await execa('apt-get', ['update', '-qq'], { env });
  await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...new Set(missing)], { env });
}

/** The busybox template's rootfs (its one layer), found through the test installation. */
export async function busyboxRootfs(): Promise<string> {
  const info = await corral(['template', 'inspect', 'busybox']);
  expect(info.exitCode, info.stderr).toBe(0);
  return JSON.parse(info.stdout)[0].layers[0].path as string;
}

/** Copy the busybox rootfs into DIR/rootfs (cp -a keeps owners, modes and links). */
export async function makeRootfs(dir: string, owner?: number): Promise<string> {
  const src = await busyboxRootfs();
  const rootfs = join(dir, 'rootfs');
  await execa('mkdir', ['-p', '-m', '755', dir]);
  await execa('cp', ['-a', src, rootfs]);
  if (owner !== undefined) await execa('chown', ['-R', '-h', `${owner}:${owner}`, rootfs]);
  return rootfs;
}

export interface OciRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * corral-oci ARGS. The container's stdio is ours at create: a file, never a pipe the container
 * would hold open after we returned.
 */
let calls = 0;
export function oci(root: string, args: string[], opts: { output?: string } = {}): Promise<OciRun> {
  return new Promise((resolve, reject) => {
    const errFile = join(tmpdir(), `corral-oci-it-${process.pid}-${calls++}.err`);
    const out = openSync(opts.output ?? '/dev/null', 'a');
    const err = openSync(errFile, 'w');
    const child = spawn(OCI, ['--root', root, ...args], { stdio: ['ignore', out, err] });
    closeSync(out);
    closeSync(err);
    child.on('error', reject);
    child.on('exit', (code) => {
      const stderr = readFileSync(errFile, 'utf8');
      rmSync(errFile, { force: true });
      resolve({ exitCode: code ?? 1, stdout: '', stderr });
    });
  });
}

/** corral-oci for a verb whose stdout is an answer (state, ps, features): no container inherits it. */
export async function ociOut(root: string, args: string[]): Promise<OciRun> {
  const r = await execa(OCI, ['--root', root, ...args], { reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export async function ociState(root: string, id: string): Promise<{ status: string; pid: number; bundle: string; annotations: Record<string, string> }> {
  const r = await ociOut(root, ['state', id]);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/**
 * Wait for a file the container writes (the kernel's word that it ran that far); when pid (the
 * writer) is given and dies without writing it, fail at once instead of waiting for the timeout.
 */
export async function untilFile(path: string, pid?: number): Promise<string> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    const dead = pid !== undefined && !alivePid(pid);
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      if (text.endsWith('\n')) return text;
    }
    if (dead) throw new Error(`${path}: its writer, pid ${pid}, exited without writing it`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

export function alivePid(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return false;
  }
}

export async function untilDead(pid: number): Promise<void> {
  for (let delay = 5; alivePid(pid); delay = Math.min(delay * 2, 200)) await new Promise((r) => setTimeout(r, delay));
}

/** Remove the test's cgroup parent in every hierarchy (children first). Fails if any is left with processes. */
export function removeCgroupTree(name = OCI_CGROUP_PARENT): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const base = join('/sys/fs/cgroup', h, name);
    if (existsSync(base)) rmTree(base);
  }
}

function rmTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(dir, e.name));
  rmdirSync(dir);
}

/** A config.json as `corral-oci spec` writes it, changed by `edit`. */
export async function writeConfig(bundle: string, root: string, edit: (c: Record<string, any>) => void): Promise<void> {
  const r = await ociOut(root, ['spec', '--bundle', bundle]);
  expect(r.exitCode, r.stderr).toBe(0);
  const c = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  edit(c);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(c, null, 2));
}
