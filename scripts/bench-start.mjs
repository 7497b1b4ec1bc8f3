// Measures container start-up, every contender in the same run, and writes docs/benchmarks.md.
import { stopInstallation } from './bench-stop.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const RUNS = Number(process.argv[2] ?? 30);
const base = mkdtempSync('/var/tmp/corral-bench-');
// A bridge prefix of its own: the benchmark's bridge and nftables table are never a real installation's.
const PREFIX = 'cbench';
const env = { ...process.env, CORRAL_DATA_ROOT: join(base, 'data'), CORRAL_RUN_ROOT: join(base, 'run'), CORRAL_CGROUP_PARENT: `corral-bench-${process.pid}`, CORRAL_BRIDGE_PREFIX: PREFIX };
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
const CLI = join(ROOT, 'dist/cli/main.js');
const { CorralClient } = await import(join(ROOT, 'dist/client/client.js'));

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), min: s[0] };
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const rows = [];
function time(label, note, fn, runs = RUNS) {
  fn(); // warm-up: page cache, template build, daemon start
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn(i);
    xs.push(performance.now() - t0);
  }
  rows.push({ label, note, ...stats(xs) });
  console.error(`${label.padEnd(48)} median ${fmt(stats(xs).median)}`);
}
async function timeAsync(label, note, fn, runs = RUNS) {
  await fn(-1);
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    xs.push(performance.now() - t0);
  }
  rows.push({ label, note, ...stats(xs) });
  console.error(`${label.padEnd(48)} median ${fmt(stats(xs).median)}`);
}
const must = (r, what) => {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
};

try {
  // 1. The CLI end to end (includes Node's own start-up for the CLI process).
  time('corral run --rm busybox true', 'CLI → corrald → container → exit → removed', () =>
    must(spawnSync(process.execPath, [CLI, 'run', '--rm', 'busybox', 'true'], { env, encoding: 'utf8' }), 'corral run'));

  // 2. Inside corrald: the API calls alone, from a warm client (no Node start-up).
  const client = new CorralClient(join(env.CORRAL_RUN_ROOT, 'corrald.sock'));
  const ids = [];
  // Start alone: loopback only first, while no bridge container runs (a bridge start rewrites its
  // peers' /etc/hosts in the background, which would load the other measurement), then bridge.
  const startOnly = [];
  const startNone = [];
  const startNoneHostUserns = [];
  const startOne = async (req, xs) => {
    const { id } = await client.create({ template: 'busybox', command: ['sleep', '1000'], ...req });
    const t0 = performance.now();
    await client.start(id);
    xs.push(performance.now() - t0);
    ids.push(id);
  };
  const startLoop = async (network, xs) => {
    for (let i = 0; i < RUNS; i++) await startOne({ name: `s${network ? 'n' : 'b'}${process.pid}-${i}`, ...(network ? { network } : {}) }, xs);
  };
  // The kernel tears down the network namespaces of the CLI runs above in a workqueue, for a
  // while after they are gone: let that settle so it is not counted in the next phase.
  await new Promise((r) => setTimeout(r, 3000));
  // The user namespace's cost: the default (a private one: its map, the idmapped template, the
  // overlay and binds made as host root first) against --userns host, interleaved so load hits both.
  for (let i = 0; i < RUNS; i++) {
    await startOne({ name: `sn${process.pid}-${i}`, network: ['none'] }, startNone);
    await startOne({ name: `su${process.pid}-${i}`, network: ['none'], userns: 'host' }, startNoneHostUserns);
  }
  await timeAsync('corrald: create + start (API)', 'bridge network; start returns once the program is exec\'d', async (i) => {
    const { id } = await client.create({ template: 'busybox', command: ['sleep', '1000'], name: `b${process.pid}-${i + 1}` });
    await client.start(id);
    ids.push(id);
  });
  await startLoop(undefined, startOnly);
  rows.push({ label: 'corrald: start (API)', note: 'bridge network (default): netns, lease, veth, address, route, /etc/hosts; cgroup, monitor, unshare, overlay, pivot_root, exec', ...stats(startOnly) });
  rows.push({ label: 'corrald: start (API), --network none', note: 'loopback only: the same without the network set-up', ...stats(startNone) });
  rows.push({ label: 'corrald: start (API), --network none --userns host', note: 'the same without a user namespace (no map, no idmapped template; unshare(1) makes the namespaces)', ...stats(startNoneHostUserns) });
  console.error(`${'corrald: start (API)'.padEnd(48)} median ${fmt(stats(startOnly).median)}`);
  console.error(`${'corrald: start (API), --network none'.padEnd(48)} median ${fmt(stats(startNone).median)}`);
  // Per-container host cost while those containers run: the monitor's resident memory.
  const rss = ids.map((id) => {
    const rt = JSON.parse(readFileSync(join(env.CORRAL_DATA_ROOT, 'containers', id, 'runtime.json'), 'utf8'));
    const st = readFileSync(`/proc/${rt.monitorPid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(st)[1]);
  });
  const monitorRss = stats(rss);
  console.error(`monitor RSS (KiB) median ${monitorRss.median}, max ${Math.max(...rss)} over ${rss.length} running containers`);
  for (const id of ids) await client.remove(id, { force: true });

  // 3. The floor: unshare alone, spawned from Node the same way.
  const rootfs = join(env.CORRAL_DATA_ROOT, 'templates/busybox/rootfs');
  time('floor: unshare … --fork --mount-proc --root R true', 'no cgroup, no overlay, no pivot_root', () =>
    must(spawnSync('unshare', ['--mount', '--uts', '--ipc', '--pid', '--net', '--fork', '--mount-proc', '--root', rootfs, '/bin/true'], { encoding: 'utf8' }), 'unshare'));

  // 3b. The floor with the network work a bridge-mode start does, as plain commands: a persistent
  // netns, a veth into it, address and routes inside, then the same unshare joined to it.
  const nsdir = join(base, 'netns');
  mkdirSync(nsdir);
  must(spawnSync('mount', ['--bind', nsdir, nsdir]), 'bind netns dir');
  must(spawnSync('mount', ['--make-private', nsdir]), 'make netns dir private');
  const vethFloor = [];
  try {
    for (let i = -1; i < RUNS; i++) {
      const file = join(nsdir, `f${i + 1}`);
      writeFileSync(file, '');
      const veth = `cbf${process.pid % 100000}x${i + 1}`.slice(0, 15);
      const t0 = performance.now();
      must(spawnSync('unshare', [`--net=${file}`, 'true']), 'unshare --net=FILE');
      must(spawnSync('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', file]), 'ip link add');
      must(spawnSync('nsenter', [`--net=${file}`, 'ip', '-batch', '-'], { input: 'addr add 10.254.0.2/24 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via 10.254.0.1 dev eth0\n' }), 'ip -batch');
      must(spawnSync('nsenter', [`--net=${file}`, 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork', '--mount-proc', '--root', rootfs, '/bin/true'], { encoding: 'utf8' }), 'unshare in netns');
      if (i >= 0) vethFloor.push(performance.now() - t0);
      spawnSync('ip', ['link', 'del', veth]);
      spawnSync('umount', [file]);
      rmSync(file, { force: true });
    }
  } finally {
    spawnSync('umount', [nsdir]);
  }
  rows.push({ label: 'floor with a veth: unshare --net=F, ip link add … netns F, ip -batch in F, nsenter --net=F unshare …', note: 'the network work of a bridge-mode start as plain commands, no bridge', ...stats(vethFloor) });
  console.error(`${'floor with a veth'.padEnd(48)} median ${fmt(stats(vethFloor).median)}`);

  // 4. crun and runc on an OCI bundle over the same template.
  const bundle = join(base, 'bundle');
  mkdirSync(bundle);
  const spec = (tool) => {
    rmSync(join(bundle, 'config.json'), { force: true });
    must(spawnSync(tool, ['spec'], { cwd: bundle, encoding: 'utf8' }), `${tool} spec`);
    const c = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    c.root = { path: rootfs, readonly: true };
    c.process.terminal = false;
    c.process.args = ['/bin/true'];
    c.linux.cgroupsPath = `/corral-bench-${process.pid}/oci`;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(c));
  };
  const have = (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
  if (have('runc')) {
    spec('runc');
    time('runc run', 'whole run to exit and delete; OCI bundle, same rootfs read-only', (i) => must(spawnSync('runc', ['run', '--bundle', bundle, `rb${process.pid}-${i}`], { encoding: 'utf8' }), 'runc run'));
  }
  if (have('crun')) {
    spec('crun');
    // crun refuses hybrid cgroups unless cgroup2 is unmounted in a private mount namespace.
    const hybrid = existsSync('/sys/fs/cgroup/unified');
    const script = `
      const { spawnSync } = require('node:child_process'); const { performance } = require('node:perf_hooks');
      const xs = []; for (let i = -1; i < ${RUNS}; i++) { const t0 = performance.now();
        const r = spawnSync('crun', ['run', '--bundle', ${JSON.stringify(bundle)}, 'cb${process.pid}-' + i], { encoding: 'utf8' });
        if (r.status !== 0) { console.error(r.stderr); process.exit(1); } if (i >= 0) xs.push(performance.now() - t0); }
      console.log(JSON.stringify(xs));`;
    const r = hybrid
      ? spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `umount /sys/fs/cgroup/unified && exec ${process.execPath} -e "$0"`, script], { encoding: 'utf8' })
      : spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    if (r.status === 0) {
      const xs = JSON.parse(r.stdout);
      rows.push({ label: 'crun run', note: hybrid ? 'whole run to exit and delete; cgroup2 unmounted privately (hybrid host)' : 'whole run to exit and delete', ...stats(xs) });
      console.error(`${'crun run'.padEnd(48)} median ${fmt(stats(xs).median)}`);
    } else console.error(`crun: ${r.stderr}`);
  }

  // 5. Seccomp: corrald has corral-seccomp compile a container's filter once, at create (the default
  // profile, Docker's capabilities); every start and exec then reads the program and loads it.
  {
    const { parseSecurityOpts, seccompForContainer } = await import(join(ROOT, 'dist/security/seccomp.js'));
    const { DEFAULT_CAPABILITIES } = await import(join(ROOT, 'dist/security/capabilities.js'));
    const flat = join(base, 'seccomp.flat');
    const bpf = join(base, 'seccomp.bpf');
    writeFileSync(flat, seccompForContainer(parseSecurityOpts([]), DEFAULT_CAPABILITIES).filter);
    time('create: corral-seccomp (default profile)', 'once per container: libseccomp, x86_64 + i386 + x32; includes the process spawn', () =>
      must(spawnSync(join(ROOT, 'build/corral-seccomp'), [flat, bpf], { encoding: 'utf8' }), 'corral-seccomp'));
    const bin = join(base, 'bench-seccomp');
    must(spawnSync('cc', ['-static', '-O2', '-o', bin, join(ROOT, 'scripts/bench-seccomp.c'), join(ROOT, 'src/native/seccomp.c'), join(ROOT, 'src/native/util.c')], { encoding: 'utf8' }), 'cc bench-seccomp');
    const r = spawnSync(bin, [bpf, String(RUNS)], { encoding: 'utf8' });
    must(r, 'bench-seccomp');
    const xs = r.stdout.trim().split('\n').map((l) => l.split(' ').map(Number)).map(([a, b]) => a + b);
    const insns = readFileSync(bpf).length / 8;
    rows.push({ label: 'start/exec: read + load the seccomp filter', note: `in the init/exec stage; ${insns} BPF instructions`, ...stats(xs) });
    console.error(`${'seccomp load'.padEnd(48)} median ${fmt(stats(xs).median)}`);
  }

  const floor = rows.find((r) => r.label.startsWith('floor: unshare'));
  const floorVeth = rows.find((r) => r.label.startsWith('floor with a veth'));
  const startRow = rows.find((r) => r.label === 'corrald: start (API)');
  const noneRow = rows.find((r) => r.label === 'corrald: start (API), --network none');
  const hostUsernsRow = rows.find((r) => r.label === 'corrald: start (API), --network none --userns host');
  const ratio = noneRow.median / floor.median;
  const ratioVeth = startRow.median / floorVeth.median;
  const table = [
    '| what | median | p90 | min | notes |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.label} | ${fmt(r.median)} | ${fmt(r.p90)} | ${fmt(r.min)} | ${r.note} |`),
  ].join('\n');
  const section = `## Start-up (scripts/bench-start)

Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} vCPU, ${Math.round(totalmem() / 2 ** 30)} GiB,
Linux ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, Node ${process.version}; ${RUNS} runs each, back to back, all in one run.

${table}

Each running container costs the host one \`corral-shim\` monitor: **${monitorRss.median} KiB RSS**
(median; max ${Math.max(...rss)} KiB over ${rss.length} running containers; target ≤ 1024 KiB), most of it
the static binary's shared text.

With a loopback-only network (\`--network none\`, like the floor's \`--net\`), the start path inside corrald
is **${ratio.toFixed(1)}x** the unshare floor (target: within 3x). The floor does less: no cgroup, no overlay,
no pivot_root, no masked paths, no capability drop.
The container's own user namespace (the default) costs **${(noneRow.median - hostUsernsRow.median).toFixed(1)} ms** (median, against
\`--userns host\`, runs interleaved): a child cloned into a new user namespace, the monitor writing its maps,
the template mounted idmapped, the overlay and binds made as host root before the namespaces are unshared.
Bridge networking (the default) adds **${(startRow.median - noneRow.median).toFixed(1)} ms** (median) to every start: a persistent
network namespace, a lease, a veth on the bridge, address and routes inside, /etc/hosts; that start is
**${ratioVeth.toFixed(1)}x** the floor with the same network work done by plain commands (which has no bridge, no lease, no hosts file).
On this hybrid (cgroup v1) host the first \`cgroup.procs\` write after ~100 ms idle costs 7-11 ms
(an RCU grace period, paid by every runtime); runs here are back to back, so it is mostly not paid.
`;
  const docPath = join(ROOT, 'docs/benchmarks.md');
  const old = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Benchmarks\n\nEach section is written by the script named in its title; numbers are from one run on one machine.\n';
  const re = /## Start-up \(scripts\/bench-start\)[\s\S]*?(?=\n## |$)/;
  writeFileSync(docPath, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}`);
  console.error(`\nwrote ${docPath}; start path = ${ratio.toFixed(1)}x floor (none), bridge adds ${(startRow.median - noneRow.median).toFixed(1)} ms`);
} finally {
  const mountsLeft = await stopInstallation(env.CORRAL_RUN_ROOT, base);
  spawnSync('nft', ['delete', 'table', 'inet', `${PREFIX}0`]);
  spawnSync('ip', ['link', 'del', `${PREFIX}0`]);
  const bridges = JSON.parse(spawnSync('ip', ['-j', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout || '[]');
  if (ipForwardBefore === '0' && bridges.length === 0) writeFileSync('/proc/sys/net/ipv4/ip_forward', '0');
  for (const h of ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', 'unified', '']) {
    for (const p of [join('/sys/fs/cgroup', h, env.CORRAL_CGROUP_PARENT), join('/sys/fs/cgroup', h, `corral-bench-${process.pid}`)]) {
      if (existsSync(p)) spawnSync('sh', ['-c', `find ${p} -depth -type d -exec rmdir {} + 2>/dev/null`]);
    }
  }
  if (!mountsLeft) rmSync(base, { recursive: true, force: true });
}
