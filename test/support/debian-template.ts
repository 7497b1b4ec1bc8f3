import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { corralWith, ROOT, type TestInstallation } from './installation.js';

/**
 * The integration tier's one Debian build per run: `corral template build debian --include …`
 * through the test installation's corrald, with the template and apt's .debs kept in
 * /var/cache/corral-test-debian (CORRAL_TEST_CACHE) across runs. The cache key is a hash of the
 * recipe (script and template.json), the include list and the host's apt sources, so a change to
 * any of them builds afresh; a cached template older than a week is rebuilt (security updates).
 * A cached template is copied into the data root as a directory with its template.json, the way a
 * user may place one by hand, and the store finds it.
 */
// systemd-sysv and openssh-server: system containers (boot.test.ts) boot it and reach its sshd.
export const DEBIAN_INCLUDE = 'nginx-light,systemd-sysv,openssh-server';
const MAX_AGE_MS = 7 * 24 * 3600_000;

export async function provideDebian(inst: TestInstallation, log: (line: string) => void = (l) => console.log(l)): Promise<{ cached: boolean; ms: number }> {
  const started = Date.now();
  const cacheRoot = process.env.CORRAL_TEST_CACHE ?? '/var/cache/corral-test-debian';
  const key = cacheKey();
  const cached = join(cacheRoot, key, 'debian');
  const target = join(inst.dataRoot, 'templates', 'debian');
  await mkdir(join(inst.dataRoot, 'templates'), { recursive: true, mode: 0o755 });
  const fresh = await stat(join(cached, 'template.json')).then((s) => Date.now() - s.mtimeMs < MAX_AGE_MS, () => false);
  if (fresh) {
    // Hard links: layers are only ever overlay lower layers, never written (the leak check proves
    // the template unchanged); a copy when the cache is on another filesystem.
    await execa('cp', ['-al', cached, target]).catch(async () => {
      await rm(target, { recursive: true, force: true });
      await execa('cp', ['-a', cached, target]);
    });
    log(`debian template: copied from ${cached} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return { cached: true, ms: Date.now() - started };
  }
  // apt's .debs of earlier runs: only what changed is downloaded.
  const apt = join(cacheRoot, 'apt');
  const aptInRoot = join(inst.dataRoot, 'cache', 'debian');
  await mkdir(aptInRoot, { recursive: true });
  if (existsSync(apt)) await execa('cp', ['-a', `${apt}/.`, aptInRoot]);
  const r = await corralWith(inst, ['template', 'build', 'debian', '--include', DEBIAN_INCLUDE], { timeoutMs: 30 * 60_000 });
  if (r.exitCode !== 0) throw new Error(`corral template build debian failed (exit ${r.exitCode}):\n${r.stderr}`);
  log(`debian template: built in ${((Date.now() - started) / 1000).toFixed(1)}s (${r.stderr.trim().split('\n').filter((l) => l.startsWith('I: success')).join('') || 'mmdebstrap'})`);
  // Keep it for the next run: the template (complete, renamed into place) and apt's cache.
  // Only what this code put there: older keys and apt's cache.
  // Keys of other recipes younger than MAX_AGE stay: worktrees on other branches use them now.
  const stale = (n: string): boolean => Date.now() - (statSafe(join(cacheRoot, n, 'debian', 'template.json')) ?? 0) >= MAX_AGE_MS;
  for (const n of listDir(cacheRoot)) if ((/^[0-9a-f]{16}$/.test(n) && stale(n)) || n === 'apt') await rm(join(cacheRoot, n), { recursive: true, force: true });
  await mkdir(join(cacheRoot, key), { recursive: true, mode: 0o700 });
  const tmp = `${cached}.tmp-${process.pid}`;
  await execa('cp', ['-a', target, tmp]);
  await rename(tmp, cached);
  await execa('cp', ['-a', aptInRoot, apt]);
  return { cached: false, ms: Date.now() - started };
}

function cacheKey(): string {
  const h = createHash('sha256');
  const recipe = join(ROOT, 'rootfs-templates', 'debian');
  for (const f of ['build', 'template.json']) h.update(readFileSync(join(recipe, f)));
  h.update(DEBIAN_INCLUDE);
  h.update(readFileSync('/etc/os-release'));
  for (const f of ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((n) => join('/etc/apt/sources.list.d', n))]) {
    if (existsSync(f) && statSync(f).isFile()) h.update(`${f}\n`).update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

function statSafe(f: string): number | undefined {
  try {
    return statSync(f).mtimeMs;
  } catch {
    return undefined;
  }
}

function listDir(d: string): string[] {
  try {
    return readdirSync(d).sort();
  } catch {
    return [];
  }
}

/**
 * A fingerprint of a tree from its metadata only (path, inode, mode, owner, size, mtime): a write
 * changes an mtime or size, a chmod or chown the mode or owner, and it costs a stat per file
 * instead of reading 200 MB twice per run. Not the ctime: the layers are hard links into the
 * shared cache, and another run linking the same cache (cp -al) changes every inode's ctime.
 */
export function statHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p, { bigint: true });
      h.update(`${p}\0${st.ino}\0${st.mode}\0${st.uid}:${st.gid}\0${st.size}\0${st.mtimeNs}\n`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return h.digest('hex');
}
