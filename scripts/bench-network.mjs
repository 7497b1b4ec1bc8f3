// HTTP over Corral's network paths vs. the host, from a client on the host, bounded in time.
//   published: 127.0.0.1:PORT, DNAT in our nftables table, route_localnet, masquerade into the bridge
//   direct:    the container's own address (routed over the bridge, no NAT)
//   host:      the same server program on the host's loopback (no namespace, no veth)
// The server is one Node process in each case (in the container: the host's node binary and its
// libraries bound read-only into a busybox container). The client is a separate Node process.
import { stopInstallation } from './bench-stop.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SECONDS = Number(process.argv[2] ?? 3);
const base = mkdtempSync('/var/tmp/corral-bench-net-');
const PREFIX = 'cbench';
const env = {
  ...process.env,
  CORRAL_DATA_ROOT: join(base, 'data'),
  CORRAL_RUN_ROOT: join(base, 'run'),
  CORRAL_CGROUP_PARENT: `corral-bench-net-${process.pid}`,
  CORRAL_BRIDGE_PREFIX: PREFIX,
};
const CLI = join(ROOT, 'dist/cli/main.js');
const corral = (...args) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`corral ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
const PUB = 39000 + (process.pid % 500);
const HOSTPORT = PUB + 500;
const BULK = 1 << 20; // bytes per bulk response

// The server: `/` answers 2 bytes, `/bulk` 1 MiB.
const server = `
const http = require('http');
const bulk = Buffer.alloc(${BULK}, 120);
http.createServer((q, s) => { if (q.url === '/bulk') s.end(bulk); else s.end('ok'); })
  .listen(Number(process.argv.at(-2)), process.argv.at(-1), () => console.log('listening'));
`;
// The client: each phase runs for SECONDS; prints one JSON line.
const client = `
const http = require('http');
const [host, port, seconds] = [process.argv.at(-3), Number(process.argv.at(-2)), Number(process.argv.at(-1))];
const now = () => Number(process.hrtime.bigint()) / 1e6;
const get = (agent, path) => new Promise((ok, fail) => {
  const t0 = now();
  http.get({ host, port, path, agent }, (r) => { let n = 0; r.on('data', (d) => (n += d.length)); r.on('end', () => ok({ ms: now() - t0, n })); }).on('error', fail);
});
(async () => {
  const out = {};
  // 1. Latency, a new connection per request (each one goes through conntrack and, for the
  //    published port, the DNAT rule), one at a time.
  const fresh = new http.Agent({ keepAlive: false });
  const lat = []; let end = now() + seconds * 1000;
  while (now() < end) lat.push((await get(fresh, '/')).ms);
  lat.sort((a, b) => a - b);
  out.newConnP50 = lat[Math.floor(lat.length / 2)]; out.newConnP99 = lat[Math.floor(lat.length * 0.99)]; out.newConnRate = lat.length / seconds;
  // 2. Request rate over 8 keep-alive connections.
  const ka = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let done = 0; end = now() + seconds * 1000;
  await Promise.all(Array.from({ length: 8 }, async () => { while (now() < end) { await get(ka, '/'); done++; } }));
  out.keepAliveRate = done / seconds;
  ka.destroy();
  // 3. Throughput: 1 MiB responses over one keep-alive connection.
  const one = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let bytes = 0; const t0 = now(); end = t0 + seconds * 1000;
  while (now() < end) bytes += (await get(one, '/bulk')).n;
  out.mbps = (bytes * 8) / ((now() - t0) / 1000) / 1e6;
  one.destroy();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

function startServer(argv, what) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolveP, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 10_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening')) {
        clearTimeout(t);
        resolveP(child);
      }
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (c) => reject(new Error(`${what} exited ${c}: ${out}`)));
  });
}

function measure(host, port) {
  const r = spawnSync(process.execPath, ['-e', client, host, String(port), String(SECONDS)], { encoding: 'utf8', timeout: (SECONDS * 3 + 30) * 1000 });
  if (r.status !== 0) throw new Error(`client to ${host}:${port}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The host's TcpExt counters (what nstat shows). */
function tcpExt() {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

const rows = [];
let hostServer;
try {
  const scripts = join(base, 'srv');
  spawnSync('mkdir', ['-p', scripts]);
  writeFileSync(join(scripts, 'server.js'), server);
  const node = process.execPath;
  // The container: busybox with the host's node and libraries bound read-only.
  corral(
    'run', '-d', '--name', 'bench-net', '-p', `127.0.0.1:${PUB}:8080`,
    '-v', `${node}:/opt/node/node:ro`, '-v', '/usr/lib:/usr/lib:ro', '-v', '/usr/lib64:/usr/lib64:ro', '-v', `${scripts}:/bench:ro`,
    'busybox', 'sh', '-c', 'ln -s usr/lib /lib && ln -s usr/lib64 /lib64 && exec /opt/node/node /bench/server.js 8080 0.0.0.0',
  );
  const ip = JSON.parse(corral('inspect', 'bench-net'))[0].networkSettings.ipAddress;
  for (let i = 0; i < 100; i++) {
    if (corral('logs', 'bench-net').includes('listening')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  hostServer = await startServer([node, '-e', server, String(HOSTPORT), '127.0.0.1'], 'host server');

  for (const [label, host, port, note] of [
    ['host loopback', '127.0.0.1', HOSTPORT, 'the same server on the host: no namespace, no veth'],
    ['container address', ip, 8080, 'routed over the bridge and a veth, no NAT'],
    ['published port on 127.0.0.1', '127.0.0.1', PUB, 'DNAT (nftables), route_localnet, masquerade, bridge, veth'],
  ]) {
    measure(host, port); // warm-up
    const before = tcpExt();
    const m = measure(host, port);
    const after = tcpExt();
    m.synRetrans = after.TCPSynRetrans - before.TCPSynRetrans;
    m.twRecycled = after.TWRecycled - before.TWRecycled;
    rows.push({ label, note, ...m });
    console.error(`${label.padEnd(30)} new conn p50 ${m.newConnP50.toFixed(3)} ms, keep-alive ${Math.round(m.keepAliveRate)} req/s, ${Math.round(m.mbps)} Mbit/s`);
  }

  const fmt = (x, d = 2) => x.toFixed(d);
  const table = [
    '| path | new connection: p50 | p99 | requests/s (one at a time) | keep-alive, 8 connections: requests/s | 1 MiB responses, 1 connection | SYN retransmits / TIME_WAIT reused | notes |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.label} | ${fmt(r.newConnP50, 3)} ms | ${fmt(r.newConnP99, 3)} ms | ${Math.round(r.newConnRate)} | ${Math.round(r.keepAliveRate)} | ${Math.round(r.mbps)} Mbit/s | ${r.synRetrans} / ${r.twRecycled} | ${r.note} |`),
  ].join('\n');
  const host = rows[0];
  const pct = (a, b) => `${a >= b ? '+' : ''}${Math.round(((a - b) / b) * 100)} %`;
  const pub = rows[2];
  const direct = rows[1];
  const section = `## Network (scripts/bench-network)

Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} vCPU, ${Math.round(totalmem() / 2 ** 30)} GiB,
Linux ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, Node ${process.version}; ${SECONDS} s per phase, one run.
A Node HTTP server (in a busybox container, with the host's \`node\` bound in; or on the host) and a
Node client on the host, each its own process; client and server share the machine's ${cpus().length} vCPUs.

${table}

Against the host's loopback, the published port costs ${pct(pub.newConnP50, host.newConnP50)} latency per new connection,
${pct(pub.keepAliveRate, host.keepAliveRate)} keep-alive request rate and ${pct(pub.mbps, host.mbps)} bulk throughput; the
container's own address ${pct(direct.newConnP50, host.newConnP50)}, ${pct(direct.keepAliveRate, host.keepAliveRate)} and ${pct(direct.mbps, host.mbps)}.
There is no proxy process: the kernel forwards the packets (and the server sees the client's
address, or the gateway's for host-local clients).

New connections one at a time through the published port from the host's loopback are the slow
case (the p99 and rate columns): each connection is NATed twice (DNAT to the container, then
masquerade into the bridge) and gets conntrack entries of its own. In some runs a few connections
also stalled for about 1 s, together with SYN retransmits and reuse of loopback client ports still
in TIME_WAIT (\`net.ipv4.tcp_tw_reuse=2\`, the default, allows that on loopback; the last column
counts both, host-wide, so other activity on the machine is included). We have not pinned the
mechanism down; keep-alive connections do not show it. Corral does not change \`tcp_tw_reuse\`.
`;
  const docPath = join(ROOT, 'docs/benchmarks.md');
  const old = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Benchmarks\n\nEach section is written by the script named in its title; numbers are from one run on one machine.\n';
  const re = /## Network \(scripts\/bench-network\)[\s\S]*?(?=\n## |$)/;
  writeFileSync(docPath, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}`);
  console.error(`\nwrote ${docPath}`);
} finally {
  hostServer?.kill('SIGKILL');
  spawnSync(process.execPath, [CLI, 'rm', '-f', 'bench-net'], { env });
  const mountsLeft = await stopInstallation(env.CORRAL_RUN_ROOT, base);
  // This installation's bridge and table; forwarding back as it was.
  spawnSync('nft', ['delete', 'table', 'inet', `${PREFIX}0`]);
  spawnSync('ip', ['link', 'del', `${PREFIX}0`]);
  // (Unless another bridge, say another Corral installation's, may rely on it by now.)
  const bridges = JSON.parse(spawnSync('ip', ['-j', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout || '[]');
  if (ipForwardBefore === '0' && bridges.length === 0) writeFileSync('/proc/sys/net/ipv4/ip_forward', '0');
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', h, env.CORRAL_CGROUP_PARENT);
    if (existsSync(p)) spawnSync('sh', ['-c', `find ${p} -depth -type d -exec rmdir {} + 2>/dev/null`]);
  }
  if (!mountsLeft) rmSync(base, { recursive: true, force: true });
}
