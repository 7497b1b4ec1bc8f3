// The start-up cost of the LXCFS binds: starts with them (the default) and without (lxcfs: false,
// i.e. --no-lxcfs), interleaved so load hits both, under a private user namespace (PID 1 attaches
// the clones) and under --userns host. Writes its section of docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const RUNS = Number(process.argv[2] ?? 30);
const base = mkdtempSync('/var/tmp/corral-bench-lxcfs-');
const PREFIX = 'cblxcfs';
const env = { ...process.env, CORRAL_DATA_ROOT: join(base, 'data'), CORRAL_RUN_ROOT: join(base, 'run'), CORRAL_CGROUP_PARENT: `corral-bench-${process.pid}`, CORRAL_BRIDGE_PREFIX: PREFIX };
const CLI = join(ROOT, 'dist/cli/main.js');
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
const { CorralClient } = await import(join(ROOT, 'dist/client/client.js'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.9 * xs.length))];
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidIn = (file) => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim().split(' ')[0]) : 0);

const arms = [
  { label: 'private user namespace, LXCFS binds', req: {} },
  { label: 'private user namespace, --no-lxcfs', req: { lxcfs: false } },
  { label: '--userns host, LXCFS binds', req: { userns: 'host' } },
  { label: '--userns host, --no-lxcfs', req: { userns: 'host', lxcfs: false } },
];
const times = arms.map(() => []);
const load = [loadavg()[0]];
try {
  // Starts corrald (and its lxcfs) and builds the busybox template.
  const warm = spawnSync(process.execPath, [CLI, 'run', '--rm', '--network', 'none', 'busybox', 'true'], { env, encoding: 'utf8' });
  if (warm.status !== 0) throw new Error(`corral run failed: ${warm.stderr}`);
  const client = new CorralClient(join(env.CORRAL_RUN_ROOT, 'corrald.sock'));
  const ids = [];
  for (let i = -1; i < RUNS; i++) {
    for (const [k, arm] of arms.entries()) {
      const { id } = await client.create({ template: 'busybox', command: ['sleep', '1000'], network: ['none'], name: `lx${k}-${process.pid}-${i + 1}`, ...arm.req });
      const t0 = performance.now();
      await client.start(id);
      if (i >= 0) times[k].push(performance.now() - t0);
      ids.push(id);
    }
  }
  load.push(loadavg()[0]);
  for (const id of ids) await client.remove(id, { force: true });

  const rows = arms.map((a, k) => `| corrald: start (API), --network none, ${a.label} | ${fmt(median(times[k]))} | ${fmt(p90(times[k]))} |`);
  // Paired: each start with the binds against the start without them right after it, so load that
  // drifts over the run hits both sides of a difference.
  const cost = (withK, withoutK) => median(times[withK].map((t, i) => t - times[withoutK][i]));
  const section = `## LXCFS binds (scripts/bench-lxcfs)

Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} vCPU, ${Math.round(totalmem() / 2 ** 30)} GiB,
Linux ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, Node ${process.version}; ${RUNS} starts per row,
the four interleaved; 1-minute load average ${load[0].toFixed(2)} before, ${load[1].toFixed(2)} after (a shared host).

| what | median | p90 |
|---|---|---|
${rows.join('\n')}

The eight LXCFS files (\`/proc/meminfo\`, \`cpuinfo\`, \`stat\`, \`uptime\`, \`loadavg\`, \`swaps\`,
\`diskstats\`, \`/sys/devices/system/cpu/online\`) cost **${cost(0, 1).toFixed(1)} ms** per start under a private
user namespace (host root clones each, PID 1 attaches them on its own /proc and /sys) and
**${cost(2, 3).toFixed(1)} ms** with \`--userns host\` (median of the differences to the \`--no-lxcfs\` start right after each). Nothing is paid per read
until a file is read; the one lxcfs process serves every container.
Each start makes about 13 FUSE lookups that lxcfs answers (it caches entries for 0.5 s only);
on a loaded host each waits for lxcfs to be scheduled, so this cost moves with the load.
`;
  const docPath = join(ROOT, 'docs/benchmarks.md');
  const old = readFileSync(docPath, 'utf8');
  const re = /## LXCFS binds \(scripts\/bench-lxcfs\)[\s\S]*?(?=\n## |$)/;
  writeFileSync(docPath, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}`);
  console.error(section);
} finally {
  // corrald stops lxcfs at its own stop once no container reads through it; wait for both to go.
  const daemon = pidIn(join(env.CORRAL_RUN_ROOT, 'corrald.pid'));
  const lxcfs = pidIn(join(env.CORRAL_RUN_ROOT, 'lxcfs.pid'));
  if (daemon && alive(daemon)) process.kill(daemon, 'SIGTERM');
  for (let i = 0; i < 300 && ((daemon && alive(daemon)) || (lxcfs && alive(lxcfs))); i++) await sleep(100);
  const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${join(env.CORRAL_RUN_ROOT, 'lxcfs')} `);
  if (mounted()) spawnSync('umount', ['-l', join(env.CORRAL_RUN_ROOT, 'lxcfs')]);
  spawnSync('nft', ['delete', 'table', 'inet', `${PREFIX}0`]);
  spawnSync('ip', ['link', 'del', `${PREFIX}0`]);
  const bridges = JSON.parse(spawnSync('ip', ['-j', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout || '[]');
  if (ipForwardBefore === '0' && bridges.length === 0) writeFileSync('/proc/sys/net/ipv4/ip_forward', '0');
  for (const h of ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', 'unified', '']) {
    const p = join('/sys/fs/cgroup', h, env.CORRAL_CGROUP_PARENT);
    if (existsSync(p)) spawnSync('sh', ['-c', `find ${p} -depth -type d -exec rmdir {} + 2>/dev/null`]);
  }
  if (!mounted()) rmSync(base, { recursive: true, force: true });
  else console.error(`lxcfs is still mounted in ${base}: left in place`);
}
