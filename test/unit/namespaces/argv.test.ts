import { describe, expect, it } from 'vitest';
import { execArgv, lxcfsBinds, rebindArgs, startArgv, unshareArgs } from '../../../src/namespaces/argv.js';
import { unshareInNetnsArgs } from '../../../src/network/argv.js';
import { configFromRequest } from '../../../src/runtime/spec.js';

const monitor = {
  shim: '/opt/corral/corral-shim',
  id: 'abc',
  stateDir: '/d',
  logFile: '/d/container.log',
  socket: '/run/a/abc.sock',
  exitNotify: '/run/exits/abc',
  cgroupProcs: ['/sys/fs/cgroup/pids/corral/abc/cgroup.procs'],
  tty: false,
  stdin: false,
  waitAttach: false,
};

describe('startArgv (--userns host)', () => {
  const c = configFromRequest({ template: 'busybox', name: 'web', command: ['echo', '--', 'hi'], volumes: [{ source: '/tmp', target: '/data', readOnly: true }], init: true, readOnly: true, userns: 'host' });
  const argv = startArgv(monitor, c, { lower: ['/t/rootfs'], upper: '/d/upper', work: '/d/work', mountpoint: '/d/rootfs' }, [{ source: '/d/hosts', target: '/etc/hosts' }]);

  it('chains monitor, unshare without --fork, and the init stage', () => {
    expect(argv.slice(0, 2)).toEqual(['monitor', '--id']);
    const u = argv.indexOf('unshare');
    expect(argv[u - 1]).toBe('--');
    expect(argv.slice(u, u + 10)).toEqual(['unshare', '--mount', '--uts', '--ipc', '--net', '--cgroup', '--pid', '--propagation', 'private', '--']);
    expect(argv).not.toContain('--fork');
    expect(argv[u + 10]).toBe('/opt/corral/corral-shim');
    expect(argv[u + 11]).toBe('init');
  });

  it('ends with the program after the last --, untouched', () => {
    const last = argv.lastIndexOf('--', argv.length - 3);
    expect(argv.slice(last + 1)).toEqual(['echo', '--', 'hi']);
  });

  it('passes the cgroup, mounts, masks and privileges', () => {
    const s = argv.join(' ');
    expect(s).toContain('--cgroup-procs /sys/fs/cgroup/pids/corral/abc/cgroup.procs');
    expect(s).toContain('--lower /t/rootfs --upper /d/upper --work /d/work');
    expect(s).toContain('--bind /d/hosts /etc/hosts rw');
    expect(s).toContain('--bind /tmp /data ro');
    expect(s).toContain('--mask /proc/kcore');
    expect(s).toContain('--readonly-path /proc/sys');
    expect(s).toContain('--read-only');
    expect(s).toContain('--init');
    expect(s).toContain('--cap CAP_CHOWN');
    expect(s).toContain('--hostname web');
    expect(argv.filter((a) => a === '--cap')).toHaveLength(14);
    expect(argv).not.toContain('--uid-map');
    expect(argv).not.toContain('--userns');
  });
});

describe('startArgv (a private user namespace, the default)', () => {
  const c = { ...configFromRequest({ template: 'busybox', name: 'web', command: ['true'], volumes: [{ source: '/tmp', target: '/data', readOnly: false }, { source: '/srv', target: '/srv', readOnly: true, idmap: true }] }), userns: { mode: 'private' as const, uidBase: 1_065_536, gidBase: 1_065_536, size: 65_536 } };
  const layout = { lower: ['/t/rootfs'], upper: '/d/upper', work: '/d/work', mountpoint: '/d/rootfs' };

  it('gives the monitor the maps, and the init stage makes every namespace itself (no unshare)', () => {
    const argv = startArgv(monitor, c, layout, [{ source: '/d/hosts', target: '/etc/hosts' }]);
    const s = argv.join(' ');
    expect(s).toContain('--uid-map 0 1065536 65536 --gid-map 0 1065536 65536');
    expect(argv).not.toContain('unshare');
    const i = argv.indexOf('init');
    expect(argv.slice(i - 2, i + 4)).toEqual(['--', '/opt/corral/corral-shim', 'init', '--userns', '--unshare', 'mnt,uts,ipc,net,cgroup,pid']);
  });

  it('binds corral\'s etc files and :idmap volumes idmapped, other volumes as they are', () => {
    const s = startArgv(monitor, c, layout, [{ source: '/d/hosts', target: '/etc/hosts' }]).join(' ');
    expect(s).toContain('--bind /d/hosts /etc/hosts rw,idmap');
    expect(s).toContain('--bind /tmp /data rw ');
    expect(s).toContain('--bind /srv /srv ro,idmap');
  });

  it('bridge: nsenter stays first (the netns is the host\'s), the rest is unshared after the user namespace', () => {
    const argv = startArgv(monitor, c, layout, [], 'unshare', unshareInNetnsArgs('/run/corral/netns/abc', { nsenter: '/usr/bin/nsenter', unshare: '/usr/bin/unshare' }));
    const n = argv.indexOf('/usr/bin/nsenter');
    expect(argv.slice(n, n + 8)).toEqual(['/usr/bin/nsenter', '--net=/run/corral/netns/abc', '--', '/opt/corral/corral-shim', 'init', '--userns', '--unshare', 'mnt,uts,ipc,cgroup,pid']);
  });

  it('--network host implies --userns host', () => {
    expect(configFromRequest({ template: 'busybox', network: ['host'] }).userns).toEqual({ mode: 'host' });
    expect(() => configFromRequest({ template: 'busybox', network: ['host'], userns: 'private' })).toThrow(/--network host/);
    expect(() => configFromRequest({ template: 'busybox', userns: 'host', volumes: [{ source: '/tmp', target: '/x', readOnly: false, idmap: true }] })).toThrow(/idmap needs the container's own user namespace/);
    expect(() => configFromRequest({ template: 'busybox', userns: 'keep-id' })).toThrow(/invalid --userns "keep-id"/);
  });

  it('caps the log: 20 MiB × 5 files unless the installation says otherwise', () => {
    const argv = startArgv(monitor, c, { lower: ['/t/rootfs'], upper: '/d/upper', work: '/d/work', mountpoint: '/d/rootfs' }, []);
    const s = argv.slice(0, argv.indexOf('--')).join(' ');
    expect(s).toContain('--log /d/container.log --log-max-size 20971520 --log-max-files 5');
    const own = startArgv({ ...monitor, logPolicy: { maxSize: 65536, maxFiles: 2 } }, c, { lower: ['/t/rootfs'], upper: '/d/upper', work: '/d/work', mountpoint: '/d/rootfs' }, []);
    expect(own.join(' ')).toContain('--log-max-size 65536 --log-max-files 2');
  });

  it('passes the seccomp filter of the container, or none when it is unconfined', () => {
    const argv = startArgv(monitor, c, { lower: ['/t/rootfs'], upper: '/d/upper', work: '/d/work', mountpoint: '/d/rootfs' }, []);
    expect(argv.join(' ')).toContain('--seccomp /d/seccomp.bpf');
    const unconfined = configFromRequest({ template: 'busybox', securityOpt: ['seccomp=unconfined'] });
    expect(startArgv(monitor, unconfined, { lower: ['/t/rootfs'], upper: '/d/upper', work: '/d/work', mountpoint: '/d/rootfs' }, [])).not.toContain('--seccomp');
  });
});

describe('network namespaces in the chain', () => {
  const c = configFromRequest({ template: 'busybox', name: 'web', userns: 'host' });
  const layout = { lower: ['/t/rootfs'], upper: '/d/upper', work: '/d/work', mountpoint: '/d/rootfs' };
  it('bridge: nsenter joins the prepared namespace, unshare makes the others', () => {
    const argv = startArgv(monitor, c, layout, [], 'unshare', unshareInNetnsArgs('/run/corral/netns/abc', { nsenter: '/usr/bin/nsenter', unshare: '/usr/bin/unshare' }));
    const n = argv.indexOf('/usr/bin/nsenter');
    expect(argv.slice(n, n + 12)).toEqual(['/usr/bin/nsenter', '--net=/run/corral/netns/abc', '--', '/usr/bin/unshare', '--mount', '--uts', '--ipc', '--cgroup', '--pid', '--propagation', 'private', '--']);
    expect(argv[n + 12]).toBe('/opt/corral/corral-shim');
  });
  it('host: no network namespace of its own', () => {
    expect(unshareArgs('unshare', { net: false })).toEqual(['unshare', '--mount', '--uts', '--ipc', '--cgroup', '--pid', '--propagation', 'private', '--']);
    expect(unshareArgs()).toContain('--net');
  });
});

describe('execArgv', () => {
  it('runs a foreground stdio monitor around the exec stage', () => {
    const argv = execArgv({ shim: '/s', pid: 42, pidStartTime: 7, cgroupProcs: ['/cg/cgroup.procs'], user: '0:0', capabilities: ['KILL'], cwd: '/', env: ['A=1'], tty: true, stdin: true, command: ['sh', '-c', 'id'] });
    expect(argv.slice(0, 3)).toEqual(['monitor', '--no-daemon', '--stdio-attach']);
    expect(argv).toContain('--tty');
    const e = argv.indexOf('exec');
    expect(argv.slice(e, e + 5)).toEqual(['exec', '--pid', '42', '--pid-start', '7']);
    expect(argv.slice(-4)).toEqual(['--', 'sh', '-c', 'id']);
    expect(argv).not.toContain('--seccomp');
  });
  it('gives the exec stage the same seccomp filter as PID 1', () => {
    const argv = execArgv({ shim: '/s', pid: 42, pidStartTime: 7, cgroupProcs: [], user: '0:0', capabilities: [], cwd: '/', env: [], tty: false, stdin: false, seccomp: '/d/seccomp.bpf', command: ['id'] });
    const e = argv.indexOf('exec');
    expect(argv.indexOf('--seccomp')).toBeGreaterThan(e);
    expect(argv[argv.indexOf('--seccomp') + 1]).toBe('/d/seccomp.bpf');
  });
});

describe('LXCFS binds', () => {
  const c = configFromRequest({ template: 'busybox', name: 'vps' });
  const binds = lxcfsBinds('/run/corral/lxcfs', ['/proc/meminfo', '/sys/devices/system/cpu/online']);

  it('binds each file of the lxcfs mount over the same path in the container, read-only', () => {
    expect(binds).toEqual([
      { source: '/run/corral/lxcfs/proc/meminfo', target: '/proc/meminfo', readOnly: true },
      { source: '/run/corral/lxcfs/sys/devices/system/cpu/online', target: '/sys/devices/system/cpu/online', readOnly: true },
    ]);
    const s = startArgv(monitor, c, { lower: ['/t/rootfs'], upper: '/d/upper', work: '/d/work', mountpoint: '/d/rootfs' }, [{ source: '/d/hosts', target: '/etc/hosts' }, ...binds]).join(' ');
    expect(s).toContain('--bind /d/hosts /etc/hosts rw,idmap --bind /run/corral/lxcfs/proc/meminfo /proc/meminfo ro --bind /run/corral/lxcfs/sys/devices/system/cpu/online /sys/devices/system/cpu/online ro');
    // Before the masks, which must stay the last word on /proc.
    expect(s.indexOf('/proc/meminfo ro')).toBeLessThan(s.indexOf('--mask'));
  });

  it('rebinds in a running container named by pid and start time', () => {
    expect(rebindArgs({ pid: 42, pidStartTime: 1234, binds })).toEqual([
      'rebind', '--pid', '42', '--pid-start', '1234',
      '--bind', '/run/corral/lxcfs/proc/meminfo', '/proc/meminfo',
      '--bind', '/run/corral/lxcfs/sys/devices/system/cpu/online', '/sys/devices/system/cpu/online',
    ]);
  });
});
