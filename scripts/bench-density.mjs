// N idle containers: what each costs the host, and how fast ps and stats answer at that count.
import { stopInstallation } from './bench-stop.mjs';
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const N = Number(process.argv[2] ?? 200);
const base = mkdtempSync('/var/tmp/corral-density-');
// Its own bridge prefix: the containers (on the default bridge network) never touch a real installation's.
const env = { ...process.env, CORRAL_DATA_ROOT: join(base, 'data'), CORRAL_RUN_ROOT: join(base, 'run'), CORRAL_CGROUP_PARENT: `corral-density-${process.pid}`, CORRAL_BRIDGE_PREFIX: 'cdensity' };
const CLI = join(ROOT, 'dist/cli/main.js');
const { CorralClient } = await import(join(ROOT, 'dist/client/client.js'));
const kib = (pid, field = 'VmRSS') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const pss = (pid) => {
  try {
    return Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
};
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)], max: s.at(-1) };
};
const time = async (fn, runs = 10) => {
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  return stats(xs);
};

try {
  if (spawnSync(process.execPath, [CLI, 'run', '--rm', 'busybox', 'true'], { env }).status !== 0) throw new Error('warm-up run failed');
  const client = new CorralClient(join(env.CORRAL_RUN_ROOT, 'corrald.sock'));
  const daemonPid = Number(readFileSync(join(env.CORRAL_RUN_ROOT, 'corrald.pid'), 'utf8').split(' ')[0]);
  const rssBefore = kib(daemonPid);
  const t0 = performance.now();
  const ids = [];
  for (let i = 0; i < N; i += 20) {
    const batch = await Promise.all(Array.from({ length: Math.min(20, N - i) }, (_, j) => client.create({ template: 'busybox', name: `idle-${i + j}`, command: ['sleep', '100000'] })));
    await Promise.all(batch.map((b) => client.start(b.id)));
    ids.push(...batch.map((b) => b.id));
  }
  const startAll = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  const monitors = ids.map((id) => JSON.parse(readFileSync(join(env.CORRAL_DATA_ROOT, 'containers', id, 'runtime.json'), 'utf8')));
  const monRss = stats(monitors.map((m) => kib(m.monitorPid)));
  const monPss = stats(monitors.map((m) => pss(m.monitorPid)));
  const ctrRss = stats(monitors.map((m) => kib(m.pid)));
  const daemonRss = kib(daemonPid);
  const psApi = await time(() => client.list());
  const psCli = await time(async () => spawnSync(process.execPath, [CLI, 'ps'], { env }), 5);
  const statsOne = await time(() => client.stats(ids[0]));
  const statsAll = await time(() => Promise.all(ids.map((id) => client.stats(id))), 3);
  const t1 = performance.now();
  for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => client.remove(id, { force: true })));
  const removeAll = performance.now() - t1;

  const f = (x) => (typeof x === 'number' ? x.toFixed(1) : String(x));
  const section = `## Density (scripts/bench-density)

Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} vCPU, ${Math.round(totalmem() / 2 ** 30)} GiB; ${N} idle busybox containers (\`sleep\`), one run.

| what | median | p90 | max |
|---|---|---|---|
| monitor RSS per container (KiB) | ${monRss.median} | ${monRss.p90} | ${monRss.max} |
| monitor PSS per container (KiB; shared text counted once across monitors) | ${monPss.median} | ${monPss.p90} | ${monPss.max} |
| the container's own process RSS (KiB) | ${ctrRss.median} | ${ctrRss.p90} | ${ctrRss.max} |
| \`ps\` through the API, ${N} containers (ms) | ${f(psApi.median)} | ${f(psApi.p90)} | ${f(psApi.max)} |
| \`corral ps\` end to end, CLI start-up included (ms) | ${f(psCli.median)} | ${f(psCli.p90)} | ${f(psCli.max)} |
| \`stats\` of one container through the API (ms) | ${f(statsOne.median)} | ${f(statsOne.p90)} | ${f(statsOne.max)} |
| \`stats\` of all ${N}, in parallel (ms) | ${f(statsAll.median)} | ${f(statsAll.p90)} | ${f(statsAll.max)} |

corrald's RSS: ${rssBefore} KiB before, ${daemonRss} KiB with ${N} containers (one corrald in total, not one per container).
Creating and starting all ${N} took ${(startAll / 1000).toFixed(1)} s (20 at a time); removing them ${(removeAll / 1000).toFixed(1)} s.
`;
  console.log(section);
  const docPath = join(ROOT, 'docs/benchmarks.md');
  const old = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Benchmarks\n';
  const re = /## Density \(scripts\/bench-density\)[\s\S]*?(?=\n## |$)/;
  writeFileSync(docPath, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}`);
} finally {
  const mountsLeft = await stopInstallation(env.CORRAL_RUN_ROOT, base);
  spawnSync('nft', ['delete', 'table', 'inet', 'cdensity0']);
  spawnSync('ip', ['link', 'del', 'cdensity0']);
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', h, env.CORRAL_CGROUP_PARENT);
    if (existsSync(p)) spawnSync('sh', ['-c', `find ${p} -depth -type d -exec rmdir {} + 2>/dev/null`]);
  }
  if (!mountsLeft) rmSync(base, { recursive: true, force: true });
}
