import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerConfig, ContainerNetworkConfig } from '../../../src/api/types.js';
import { DEFAULT_PATHS } from '../../../src/config.js';
import { ConflictError, ValidationError } from '../../../src/errors.js';
import { NetnsStore, NetworkRegistry } from '../../../src/network/index.js';
import { ContainerNetworking, HOST_MODE_WARNING, type NetworkRecord } from '../../../src/runtime/networking/index.js';
import { NONE_NETWORK_CONFIG, DEFAULT_NETWORK_CONFIG } from '../../../src/runtime/spec.js';
import { ContainerStore } from '../../../src/runtime/store.js';
import { RecordingRunner } from '../../../src/system/runner.js';

const ROUTES = JSON.stringify([{ dst: 'default', gateway: '192.0.2.1', dev: 'eth0' }]);
const HOST_HOSTS = '127.0.0.1 localhost\n192.0.2.10 printer\n';
const HOST_RESOLV = 'nameserver 127.0.0.53\nnameserver 192.0.2.1\n';

let root: string;
let runner: RecordingRunner;
let store: ContainerStore;
let configs: ContainerConfig[];
const logged: string[] = [];
const log = { debug: () => {}, info: () => {}, warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) };

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'corral-netmodes-'));
  // Only the route table may be asked for (the default network is recorded on first use).
  runner = new RecordingRunner((file, args) => (file === 'ip' && args[0] === '-j' ? { stdout: ROUTES } : { exitCode: 99, stderr: 'not expected in this test' }));
  store = new ContainerStore({ ...DEFAULT_PATHS, dataRoot: join(root, 'data'), runRoot: join(root, 'run') });
  configs = [];
  logged.length = 0;
  writeFileSync(join(root, 'hosts'), HOST_HOSTS);
  writeFileSync(join(root, 'resolv.conf'), HOST_RESOLV);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function networking(): ContainerNetworking {
  return new ContainerNetworking({
    registry: new NetworkRegistry({ runner, dataRoot: join(root, 'data'), prefix: 'tst' }),
    runner,
    netns: new NetnsStore(join(root, 'run'), runner),
    store,
    log,
    containers: () => configs,
    unshare: '/opt/unshare',
    hostHosts: join(root, 'hosts'),
    hostResolvConf: join(root, 'resolv.conf'),
  });
}

/** A committed container: only what networking reads is filled in. */
function container(name: string, network: Partial<ContainerNetworkConfig>): ContainerConfig {
  const id = `${name}`.padEnd(64, '0');
  const c = { id, name, hostname: name, network: { ...NONE_NETWORK_CONFIG, ...network } } as ContainerConfig;
  mkdirSync(store.dir(id), { recursive: true });
  configs.push(c);
  return c;
}

const read = (c: ContainerConfig, f: 'hosts' | 'resolv.conf'): string => readFileSync(store.file(c.id, f), 'utf8');

describe('ContainerNetworking: mode selection', () => {
  it('picks the mode named in the config, and refuses an unknown one', async () => {
    const net = networking();
    expect(net.mode(container('a', { mode: 'none' })).name).toBe('none');
    expect(net.mode(container('b', { mode: 'host' })).name).toBe('host');
    expect(net.mode(container('c', DEFAULT_NETWORK_CONFIG)).name).toBe('bridge');
    const odd = container('d', { mode: 'pod' as never });
    expect(() => net.mode(odd)).toThrow(ValidationError);
    await expect(net.tearDown(odd)).rejects.toThrow(/unknown network mode "pod"/);
  });
});

describe('--network none', () => {
  it('validates, sets up and tears down without a spawn or a network: loopback /etc/hosts, no loopback resolver', async () => {
    const net = networking();
    const c = container('quiet', { mode: 'none', dns: [] });
    await net.validate(c);
    expect(await net.setUp(c)).toBeUndefined();
    await net.tearDown(c);
    expect(runner.calls).toEqual([]);
    expect(existsSync(join(root, 'data/network'))).toBe(false);
    expect(read(c, 'hosts')).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tquiet\n');
    expect(read(c, 'resolv.conf')).toBe('nameserver 192.0.2.1\n');
    expect(net.summary(c, true)).toEqual({ networkMode: 'none', networks: [{ name: 'none', ip: null }], ports: [] });
    expect(net.warnings(c)).toEqual([]);
  });
});

describe('--network host', () => {
  it("joins no namespace (unshare without --net), follows the host's /etc/hosts and keeps loopback resolvers", async () => {
    const net = networking();
    const c = container('hosty', { mode: 'host' });
    await net.validate(c);
    const argv = await net.setUp(c);
    expect(argv?.[0]).toBe('/opt/unshare');
    expect(argv).not.toContain('--net');
    expect(argv).toContain('--mount');
    await net.tearDown(c);
    expect(runner.calls).toEqual([]);
    expect(read(c, 'hosts')).toBe(`${HOST_HOSTS}127.0.1.1\thosty\n`);
    expect(read(c, 'resolv.conf')).toBe(HOST_RESOLV);
    expect(net.settings(c, true)).toMatchObject({ mode: 'host', networks: {}, ipAddress: null, sandboxKey: null, warnings: [HOST_MODE_WARNING] });
  });

  it('warns about the shared namespace first, then about -P without --expose', () => {
    const c = container('p', { mode: 'host', publishAll: true });
    expect(networking().warnings(c)).toEqual([HOST_MODE_WARNING, '-P: no --expose ports given, so nothing will be published']);
  });
});

describe('--network bridge', () => {
  it('warns about --expose without -P', () => {
    const c = container('e', { ...DEFAULT_NETWORK_CONFIG, expose: [{ port: 80, protocol: 'tcp' }] });
    expect(networking().warnings(c)).toEqual(['--expose without -P publishes nothing (it lists the ports -P publishes)']);
  });

  it('refuses at create a fixed address another container is configured with', async () => {
    const net = networking();
    container('first', { mode: 'bridge', networks: [{ network: 'bridge', ip: '10.88.0.7', aliases: [] }] });
    const c = container('second', { mode: 'bridge', networks: [{ network: 'bridge', ip: '10.88.0.7', aliases: [] }] });
    const err = await net.validate(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toBe('--ip 10.88.0.7: container first is configured with that address on network bridge');
  });

  it('at start-up keeps the running containers\' records, drops the others, and lists peers in each /etc/hosts; tear-down updates the peers', async () => {
    const record = (c: ContainerConfig, ip: string): NetworkRecord => ({
      version: 1,
      name: c.name,
      netns: `/run/x/${c.name}`,
      endpoints: [{ network: 'bridge', bridge: 'tst0', ifname: 'eth0', ipAddress: ip, prefixLen: 16, gateway: '10.89.0.1', macAddress: '02:00:00:00:00:01', hostVeth: 'v', aliases: [`${c.name}-alias`] }],
      ports: [],
    });
    const [web, db, gone] = (['web', 'db', 'gone'] as const).map((n) => container(n, DEFAULT_NETWORK_CONFIG));
    const ips = new Map([[web!, '10.89.0.2'], [db!, '10.89.0.3'], [gone!, '10.89.0.4']]);
    for (const [c, ip] of ips) {
      writeFileSync(store.file(c.id, 'network.json'), JSON.stringify(record(c, ip)));
      writeFileSync(store.file(c.id, 'hosts'), 'stale\n');
    }
    const net = networking();
    await net.init(new Set([web!.id, db!.id]));
    expect(existsSync(store.file(gone!.id, 'network.json'))).toBe(false);
    expect(read(web!, 'hosts')).toContain('10.89.0.2\tweb web-alias\n# containers on the same networks (kept current by corrald)\n10.89.0.3\tdb db-alias\n');
    expect(read(db!, 'hosts')).toContain('10.89.0.3\tdb db-alias\n# containers on the same networks (kept current by corrald)\n10.89.0.2\tweb web-alias\n');
    expect(read(gone!, 'hosts')).toBe('stale\n');
    expect(net.summary(web!, true).networks).toEqual([{ name: 'bridge', ip: '10.89.0.2' }]);
    expect(net.summary(web!, false).networks).toEqual([{ name: 'bridge', ip: null }]);
    expect(net.settings(db!, true)).toMatchObject({ ipAddress: '10.89.0.3', sandboxKey: '/run/x/db' });

    // db stops: nothing on the host to undo (no lease, no namespace file), its record goes and web forgets it.
    await net.tearDown(db!);
    await net.hostsSettled();
    expect(existsSync(store.file(db!.id, 'network.json'))).toBe(false);
    expect(read(web!, 'hosts')).not.toContain('db');
    expect(net.settings(db!, true)).toMatchObject({ ipAddress: null, sandboxKey: null });
    expect(runner.calls).toEqual([]);
    expect(logged).toEqual([]);
  });
});
