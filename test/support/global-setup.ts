import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, rmdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { describeLeaks, findLeaks, treeHash } from './leaks.js';
import { spawnSync } from 'node:child_process';
import { CLI, DAEMON, ROOT, SHIM, corralWith, daemonArgs, testBridgePrefix, waitForSocket, type TestInstallation } from './installation.js';
import { links, nftTables, ourNames } from './leaks.js';
import { provideDebian, statHash } from './debian-template.js';

/**
 * Starts one corrald with a data root, run root and cgroup parent of its own, builds the busybox
 * template through it and the debian one (or copies the last run's, debian-template.ts), and afterwards removes every container, stops the daemon by pid, and fails
 * the run if any process, mount, cgroup or state dir of this installation is left, or if the
 * template changed.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0) {
    throw new Error('INTEGRATION TIER NOT RUN: it needs root (run: sudo scripts/test)');
  }
  for (const f of [CLI, DAEMON, SHIM]) {
    if (!existsSync(f)) throw new Error(`INTEGRATION TIER NOT RUN: ${f} is missing; build first (npm run build)`);
  }
  const base = mkdtempSync('/var/tmp/corral-it-');
  const inst: TestInstallation = {
    dataRoot: join(base, 'data'),
    runRoot: join(base, 'run'),
    cgroupParent: `corral-it-${process.pid}`,
    // Bridges and nftables tables of this run's own: a real installation's are never touched.
    bridgePrefix: testBridgePrefix(),
  };
  const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const daemon = spawn(process.execPath, [DAEMON, ...daemonArgs(inst), '--log-level', 'debug'], {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
  });
  await waitForSocket(inst, daemon);
  // Build the template once through the daemon, then remember its hash.
  const warm = await corralWith(inst, ['run', '--rm', 'busybox', 'true']);
  if (warm.exitCode !== 0) throw new Error(`warm-up run failed: ${warm.stderr}`);
  // One Debian build per run (or a copy of the last run's), shared by the tests that need Debian.
  await provideDebian(inst);
  const templateRoots = ['busybox', 'debian'].map((n) => join(inst.dataRoot, 'templates', n));
  // busybox by content; debian (200 MB) by metadata, where any write shows as a new ctime.
  const fingerprint = (d: string): string => (d.endsWith('/debian') ? statHash(d) : treeHash(d));
  const before = templateRoots.map(fingerprint);
  project.provide('corral', inst);

  return async () => {
    const problems: string[] = [];
    const ps = await corralWith(inst, ['ps', '-aq']);
    const ids = ps.stdout.split('\n').filter(Boolean);
    if (ids.length > 0) {
      problems.push(`containers left by tests: ${ids.join(' ')}`);
      await corralWith(inst, ['rm', '-f', ...ids]);
    }
    templateRoots.forEach((d, i) => {
      if (fingerprint(d) !== before[i]) problems.push(`the template in ${d} changed during the tests`);
    });
    const extra = readdirSync(join(inst.dataRoot, 'templates')).filter((n) => n !== 'busybox' && n !== 'debian');
    if (extra.length > 0) problems.push(`templates left by tests: ${extra.join(' ')}`);
    // Tests may have restarted corrald: stop whichever one the pid file names, by its pid.
    const pidFile = join(inst.runRoot, 'corrald.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split(' ')[0]) : daemon.pid;
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      // corrald removes its pid file just before it exits: wait for the process itself to be gone
      // (the kernel's word), however long a loaded machine takes.
      while (alive(pid)) await new Promise((r) => setTimeout(r, 100));
    }
    const leaks = describeLeaks(findLeaks(inst));
    if (leaks) problems.push(`leaked:\n${leaks}`);
    // The default network's bridge and base table are kept while corrald lives (as docker0 is);
    // this installation is gone now, so they go too. Anything else of ours is a leak.
    const prefix = inst.bridgePrefix!;
    spawnSync('nft', ['delete', 'table', 'inet', `${prefix}0`]);
    spawnSync('nft', ['delete', 'table', 'bridge', `${prefix}0`]);
    spawnSync('ip', ['link', 'del', `${prefix}0`]);
    const left = [
      ...ourNames(prefix, links().map((l) => l.ifname)).map((n) => `interface ${n}`),
      ...ourNames(prefix, nftTables('inet')).map((t) => `nft table inet ${t}`),
      ...ourNames(prefix, nftTables('bridge')).map((t) => `nft table bridge ${t}`),
    ];
    if (left.length > 0) problems.push(`network objects left: ${left.join(', ')}`);
    for (const t of left) {
      const [kind] = t.split(' ');
      if (kind === 'interface') spawnSync('ip', ['link', 'del', t.split(' ')[1]!]);
      else spawnSync('nft', ['delete', 'table', t.split(' ')[2]!, t.split(' ')[3]!]);
    }
    // corrald turned IPv4 forwarding on (it says so in its log); put back what this host had,
    // unless another bridge (another installation's, another test run's) may rely on it by now.
    const bridges = links().filter((l) => l.kind === 'bridge');
    if (ipForwardBefore === '0' && bridges.length === 0) writeFileSync('/proc/sys/net/ipv4/ip_forward', '0');
    // Our own parent cgroups, now empty.
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const p = join('/sys/fs/cgroup', h, inst.cgroupParent);
      if (existsSync(p)) {
        try {
          rmdirSync(p);
        } catch (err) {
          problems.push(`cannot remove ${p}: ${(err as Error).message}`);
        }
      }
    }
    if (problems.length === 0) rmSync(base, { recursive: true, force: true });
    else {
      console.error(`\nLEAK CHECK FAILED (state kept in ${base}):\n${problems.join('\n')}`);
      throw new Error(`leak check failed: ${problems.join('; ')}`);
    }
    console.log('leak check: no process, mount, cgroup, state dir, veth, netns, lease, port rule, sender filter or lxcfs left; template unchanged');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    corral: TestInstallation;
  }
}

/** Whether `pid` is a live process (a zombie has exited: it only waits to be reaped). */
function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.startsWith('Z');
  } catch {
    return false;
  }
}
