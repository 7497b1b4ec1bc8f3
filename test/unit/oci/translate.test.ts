import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../../src/oci/args.js';
import { MS, parseMountOptions } from '../../../src/oci/mount-options.js';
import { parseSignal } from '../../../src/oci/signals.js';
import { createArgs, processArgs, type CreateContext } from '../../../src/oci/translate.js';
import type { OciSpec } from '../../../src/oci/spec.js';

const ctx: CreateContext = {
  bundle: '/b',
  execFifo: '/run/x/exec.fifo',
  cgroupProcs: ['/sys/fs/cgroup/memory/t/c/cgroup.procs'],
  cgroupMounts: { v1: [{ name: 'memory', dir: '/sys/fs/cgroup/memory/t/c' }, { name: 'pids', dir: '/sys/fs/cgroup/pids/t/c' }], v2: null },
};

function spec(over: Partial<OciSpec> = {}): OciSpec {
  return { ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/' }, ...over };
}

/** The values following each occurrence of an option. */
function values(args: string[], opt: string, n = 1): string[][] {
  const out: string[][] = [];
  const end = args.indexOf('--');
  args.forEach((a, i) => {
    if (a === opt && i < end) out.push(args.slice(i + 1, i + 1 + n));
  });
  return out;
}

describe('mount options', () => {
  it('maps flags, clears, propagation and data like runc', () => {
    const o = parseMountOptions(['nosuid', 'noexec', 'nodev', 'ro', 'rw', 'rbind', 'rslave', 'mode=755', 'size=65536k', 'tmpcopyup']);
    expect(o.flags).toBe(MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.BIND | MS.REC);
    expect(o.propagation).toBe(MS.SLAVE | MS.REC);
    expect(o.data).toBe('mode=755,size=65536k');
  });
});

describe('createArgs', () => {
  it('makes exactly the namespaces asked for, joins paths, and writes maps only with a new user namespace', () => {
    const a = createArgs(spec({
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'network', path: '/proc/42/ns/net' }, { type: 'mount' }, { type: 'user' }],
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 1 }, { containerID: 1, hostID: 200000, size: 10 }],
      },
    }), ctx);
    expect(values(a, '--new').flat()).toEqual(['pid', 'mnt', 'user']);
    expect(values(a, '--join', 2)).toEqual([['net', '/proc/42/ns/net']]);
    expect(values(a, '--uid-map')).toEqual([['0 100000 65536\n']]);
    expect(values(a, '--gid-map')).toEqual([['0 100000 1\n1 200000 10\n']]);
    expect(() => createArgs(spec({ linux: { uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] } }), ctx)).toThrow(/user namespace/);
    expect(() => createArgs(spec({ hostname: 'h' }), ctx)).toThrow(/uts/);
  });

  it('resolves the root and bind sources against the bundle, keeps mount order, and adds default devices only under a /dev mount', () => {
    const without = createArgs(spec({ mounts: [{ destination: '/data', type: 'bind', source: 'vol', options: ['rbind', 'ro'] }] }), ctx);
    expect(values(without, '--rootfs')).toEqual([['/b/rootfs']]);
    expect(values(without, '--mount', 6)).toEqual([['/b/vol', '/data', 'bind', String(MS.BIND | MS.REC | MS.RDONLY), '0', '']]);
    expect(values(without, '--device')).toEqual([]);
    const withDev = createArgs(spec({
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] }],
      linux: { devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 5, gid: 6 }, { path: '/dev/fuse', type: 'c', major: 10, minor: 229 }] },
    }), ctx);
    expect(values(withDev, '--mount', 6).map((m) => m[1])).toEqual(['/proc', '/dev']);
    const devs = values(withDev, '--device', 7);
    expect(devs[0]).toEqual(['/dev/null', 'c', '1', '3', String(0o600), '5', '6']);
    expect(devs.map((d) => d[0])).toEqual(['/dev/null', '/dev/fuse', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
    expect(values(withDev, '--symlink', 2)).toContainEqual(['pts/ptmx', '/dev/ptmx']);
  });

  it('mounts the container\'s own v1 cgroups on a tmpfs for a cgroup mount, read-only when asked', () => {
    const a = createArgs(spec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'ro'] }] }), ctx);
    const mounts = values(a, '--mount', 6);
    expect(mounts[0]!.slice(0, 3)).toEqual(['tmpfs', '/sys/fs/cgroup', 'tmpfs']);
    expect(mounts.slice(1).map((m) => [m[0], m[1]])).toEqual([['/sys/fs/cgroup/memory/t/c', '/sys/fs/cgroup/memory'], ['/sys/fs/cgroup/pids/t/c', '/sys/fs/cgroup/pids']]);
    expect(Number(mounts[1]![3]) & MS.RDONLY).toBe(MS.RDONLY);
    expect(values(a, '--remount-ro')).toEqual([['/sys/fs/cgroup']]);
  });

  it('passes masked and read-only paths, sysctls, the fifo, cgroups and the program last', () => {
    const a = createArgs(spec({ root: { path: '/abs/root', readonly: true }, linux: { maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'], sysctl: { 'net.ipv4.ip_forward': '1' } } }), ctx);
    expect(values(a, '--mask')).toEqual([['/proc/kcore']]);
    expect(values(a, '--readonly-path')).toEqual([['/proc/sys']]);
    expect(values(a, '--sysctl', 2)).toEqual([['net.ipv4.ip_forward', '1']]);
    expect(values(a, '--rootfs')).toEqual([['/abs/root']]);
    expect(a).toContain('--readonly-root');
    expect(values(a, '--exec-fifo')).toEqual([['/run/x/exec.fifo']]);
    expect(values(a, '--cgroup-procs')).toEqual([['/sys/fs/cgroup/memory/t/c/cgroup.procs']]);
    expect(a.slice(a.indexOf('--') + 1)).toEqual(['sh']);
  });
});

describe('processArgs', () => {
  it('carries user, groups, each capability set, rlimits, no_new_privs and the console socket', () => {
    const a = processArgs({
      args: ['x'],
      user: { uid: 1000, gid: 100, additionalGids: [10, 20] },
      capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NOT_A_CAP'], effective: ['CAP_KILL'], ambient: [] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }],
      noNewPrivileges: true,
      env: ['A=1', 'broken'],
      terminal: true,
      cwd: '/w',
    }, { consoleSocket: '/tmp/c.sock', seccompFile: '/s.bpf' });
    expect(values(a.concat('--'), '--user', 2)).toEqual([['1000', '100']]);
    expect(values(a.concat('--'), '--group').flat()).toEqual(['10', '20']);
    expect(values(a.concat('--'), '--cap-bounding')).toEqual([['CAP_KILL,CAP_CHOWN']]);
    expect(values(a.concat('--'), '--cap-effective')).toEqual([['CAP_KILL']]);
    expect(values(a.concat('--'), '--cap-permitted')).toEqual([['']]);
    expect(values(a.concat('--'), '--rlimit', 3)).toEqual([['7', '1024', '4096']]);
    expect(values(a.concat('--'), '--env')).toEqual([['A=1']]);
    expect(a).toContain('--no-new-privs');
    expect(values(a.concat('--'), '--console-socket')).toEqual([['/tmp/c.sock']]);
    expect(values(a.concat('--'), '--seccomp')).toEqual([['/s.bpf']]);
    expect(() => processArgs({ args: ['x'], rlimits: [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }] }, {})).toThrow(/RLIMIT_BOGUS/);
  });
});

describe('command line', () => {
  it('reads runc-style flags: --a v, --a=v, -a v, aliases, and stops at the first positional', () => {
    const p = parseFlags(['-b', '/x', '--pid-file=/p', 'id1', '--not-a-flag'], { value: ['bundle', 'pid-file'], alias: { b: 'bundle' } }, 't');
    expect(p.flags.get('bundle')).toBe('/x');
    expect(p.flags.get('pid-file')).toBe('/p');
    expect(p.rest).toEqual(['id1', '--not-a-flag']);
    expect(() => parseFlags(['--nope'], {}, 't')).toThrow(/unknown flag --nope/);
  });

  it('reads signals by name and number', () => {
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('SIGTERM')).toBe(15);
    expect(parseSignal('sigusr1')).toBe(10);
    expect(() => parseSignal('SIGNOPE')).toThrow(/unknown/);
  });
});
