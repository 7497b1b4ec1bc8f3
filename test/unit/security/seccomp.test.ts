import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { securityOptsToRequest } from '../../../src/cli/security-opt.js';
import { ValidationError } from '../../../src/errors.js';
import { CONFIG_VERSION, migrateConfig } from '../../../src/runtime/config-version.js';
import { configFromRequest } from '../../../src/runtime/spec.js';
import { DEFAULT_CAPABILITIES } from '../../../src/security/capabilities.js';
import { defaultSeccompProfileText, parseSecurityOpts, seccompFilterFile, seccompForContainer, writeSeccompFiles } from '../../../src/security/seccomp.js';
import { parseSeccompProfile } from '../../../src/security/seccomp-profile.js';
import { hostTarget, renderFlat, resolveSeccomp, type SeccompTarget } from '../../../src/security/seccomp-resolve.js';

const amd64 = (caps: readonly string[] = DEFAULT_CAPABILITIES, kernel: [number, number] = [6, 1]): SeccompTarget => ({ capabilities: caps, goArch: 'amd64', nativeArch: 'x86_64', kernel });
const arm64 = (caps: readonly string[] = DEFAULT_CAPABILITIES): SeccompTarget => ({ capabilities: caps, goArch: 'arm64', nativeArch: 'aarch64', kernel: [6, 1] });
const defaults = () => parseSeccompProfile(defaultSeccompProfileText(), 'default.json');
const rulesFor = (t: SeccompTarget) => resolveSeccomp(defaults(), t).rules;
const named = (rules: string[], name: string) => rules.filter((r) => r.split(' ')[1] === name);
const profile = (p: object) => JSON.stringify(p);

describe('the default profile, resolved as Docker resolves it', () => {
  it('is an allow-list: EPERM by default; x86_64 with its i386 and x32 sub-architectures', () => {
    const f = resolveSeccomp(defaults(), amd64());
    expect(f.defaultAction).toBe('errno:1');
    expect(f.arches).toEqual(['x86_64', 'x86', 'x32']);
    expect(f.rules).toContain('allow read');
    expect(f.rules).toContain('allow execve');
    expect(f.rules.every((r) => !r.startsWith('errno:1 '))).toBe(true); // the default's action is never a rule
  });

  it('never allows keyrings, io_uring, userfaultfd, kexec, modules or clock setting to default capabilities', () => {
    const rules = rulesFor(amd64());
    for (const n of ['keyctl', 'add_key', 'request_key', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'userfaultfd', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'clock_settime', 'settimeofday', 'bpf', 'perf_event_open', 'unshare', 'setns', 'mount', 'pivot_root', 'swapon']) {
      expect(named(rules, n), n).toEqual([]);
    }
    // keyrings stay closed whatever the capabilities
    const all = rulesFor(amd64(['SYS_ADMIN', 'SYS_MODULE', 'SYS_TIME', 'BPF', 'PERFMON']));
    for (const n of ['keyctl', 'add_key', 'request_key', 'io_uring_setup', 'userfaultfd', 'kexec_load']) expect(named(all, n), n).toEqual([]);
  });

  it('lets clone make no namespace and answers clone3 with ENOSYS, unless the container holds SYS_ADMIN', () => {
    const rules = rulesFor(amd64());
    expect(named(rules, 'clone')).toEqual(['allow clone a0:masked_eq:2114060288:0']);
    expect(named(rules, 'clone3')).toEqual(['errno:38 clone3']);
    const admin = rulesFor(amd64([...DEFAULT_CAPABILITIES, 'SYS_ADMIN']));
    expect(named(admin, 'clone')).toEqual(['allow clone']);
    expect(named(admin, 'clone3')).toEqual(['allow clone3']);
    for (const n of ['unshare', 'setns', 'mount', 'umount2', 'perf_event_open', 'bpf']) expect(named(admin, n), n).toEqual([`allow ${n}`]);
  });

  it('opens each capability-gated call with its capability only', () => {
    expect(named(rulesFor(amd64([...DEFAULT_CAPABILITIES, 'PERFMON'])), 'perf_event_open')).toEqual(['allow perf_event_open']);
    expect(named(rulesFor(amd64([...DEFAULT_CAPABILITIES, 'BPF'])), 'bpf')).toEqual(['allow bpf']);
    expect(named(rulesFor(amd64([...DEFAULT_CAPABILITIES, 'SYS_TIME'])), 'clock_settime')).toEqual(['allow clock_settime']);
    expect(named(rulesFor(amd64([...DEFAULT_CAPABILITIES, 'SYS_MODULE'])), 'finit_module')).toEqual(['allow finit_module']);
    // SYS_CHROOT is in the default set; dropping it closes chroot
    expect(named(rulesFor(amd64()), 'chroot')).toEqual(['allow chroot']);
    expect(named(rulesFor(amd64(DEFAULT_CAPABILITIES.filter((c) => c !== 'SYS_CHROOT'))), 'chroot')).toEqual([]);
  });

  it('follows the architecture: arch_prctl on amd64, the Arm calls and sub-architecture on arm64', () => {
    expect(named(rulesFor(amd64()), 'arch_prctl')).toEqual(['allow arch_prctl']);
    expect(named(rulesFor(amd64()), 'cacheflush')).toEqual([]);
    const arm = resolveSeccomp(defaults(), arm64());
    expect(arm.arches).toEqual(['aarch64', 'arm']);
    expect(named(arm.rules, 'cacheflush')).toEqual(['allow cacheflush']);
    expect(named(arm.rules, 'arch_prctl')).toEqual([]);
  });

  it('honours minKernel: ptrace is allowed from 4.8 on (or with SYS_PTRACE)', () => {
    expect(named(rulesFor(amd64()), 'ptrace')).toEqual(['allow ptrace']);
    expect(named(rulesFor(amd64(DEFAULT_CAPABILITIES, [4, 4])), 'ptrace')).toEqual([]);
    expect(named(rulesFor(amd64([...DEFAULT_CAPABILITIES, 'SYS_PTRACE'], [4, 4])), 'ptrace')).toEqual(['allow ptrace']);
  });

  it('keeps socket away from AF_VSOCK and personality to the harmless values', () => {
    const rules = rulesFor(amd64());
    expect(named(rules, 'socket')).toEqual(['allow socket a0:ne:40']);
    expect(named(rules, 'personality')).toHaveLength(5);
  });

  it('renders the flat file the shim reads', () => {
    const text = renderFlat(resolveSeccomp(defaults(), amd64()));
    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual(['corral-seccomp 1', 'default errno:1', 'arch x86_64', 'arch x86', 'arch x32']);
    expect(text.endsWith('\n')).toBe(true);
    for (const l of lines.slice(5, -1)) expect(l).toMatch(/^rule (allow|errno:\d+) [a-z0-9_]+( a[0-5]:[a-z_]+:\d+(:\d+)?)*$/);
  });
});

describe('resolving any Docker-format profile', () => {
  const t = amd64();
  it('ANDs conditions on different arguments, and splits those on one argument into rules (runc)', () => {
    const p = parseSeccompProfile(profile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2, op: 'SCMP_CMP_GT' }] },
        { names: ['b'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 3, op: 'SCMP_CMP_EQ' }] },
      ],
    }), 'p.json');
    expect(resolveSeccomp(p, t).rules).toEqual(['errno:1 a a0:eq:1 a1:gt:2', 'kill_thread b a0:eq:1', 'kill_thread b a0:eq:3']);
  });

  it('takes errnoRet, the other actions, a legacy architectures list, and drops duplicates and rules equal to the default', () => {
    const p = parseSeccompProfile(profile({
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [
        { names: ['read', 'read'], action: 'SCMP_ACT_ALLOW' },
        { name: 'write', action: 'SCMP_ACT_LOG' },
        { names: ['x'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        { names: ['y'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
        { names: ['z'], action: 'SCMP_ACT_KILL_PROCESS', comment: 'why' },
        { names: ['w'], action: 'SCMP_ACT_TRAP', excludes: { minKernel: '5.0' } },
      ],
    }), 'p.json');
    const f = resolveSeccomp(p, t);
    expect(f).toEqual({ defaultAction: 'errno:38', arches: ['x86_64', 'x86'], rules: ['allow read', 'log write', 'trace:7 y', 'kill_process z'] });
  });

  it('a profile without archMap entry for this host adds no architectures (the native one is always there)', () => {
    const p = parseSeccompProfile(profile({ defaultAction: 'SCMP_ACT_ALLOW', archMap: [{ architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] }] }), 'p.json');
    expect(resolveSeccomp(p, t).arches).toEqual([]);
  });

  it('maps the host', () => {
    expect(hostTarget(['KILL'], 'x64', '6.1.0-13-amd64')).toEqual({ capabilities: ['KILL'], goArch: 'amd64', nativeArch: 'x86_64', kernel: [6, 1] });
    expect(hostTarget([], 'arm64', '5.10.0').nativeArch).toBe('aarch64');
    expect(() => hostTarget([], 'loong64', '6.1')).toThrow(/architecture \(loong64\) is not supported; use --security-opt seccomp=unconfined/);
  });
});

describe('parsing a profile strictly, naming the file and the place', () => {
  const bad = (p: unknown): string => {
    try {
      parseSeccompProfile(typeof p === 'string' ? p : JSON.stringify(p), '/x/p.json');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };
  const rule = (r: object) => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [r] });

  it('refuses what is not a profile', () => {
    expect(bad('{nope')).toMatch(/^seccomp profile \/x\/p\.json: not valid JSON/);
    expect(bad([])).toBe('seccomp profile /x/p.json: expected an object');
    expect(bad({})).toMatch(/^seccomp profile \/x\/p\.json: defaultAction: unknown action undefined/);
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', syscall: [] })).toBe('seccomp profile /x/p.json: unknown field "syscall"');
  });

  it('refuses unknown actions, operators, indexes, fields and numbers it cannot hold', () => {
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_PERMIT' }))).toMatch(/^seccomp profile \/x\/p\.json: syscalls\[0\]\.action: unknown action "SCMP_ACT_PERMIT"/);
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_NOTIFY' }))).toMatch(/needs a notification listener/);
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_LIKE' }] }))).toMatch(/syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_LIKE"/);
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }))).toMatch(/args\[0\]\.index: expected 0 to 5/);
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] }))).toMatch(/args\[0\]\.value: expected a whole number/);
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }))).toMatch(/args\[0\]\.value/);
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }))).toMatch(/errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE/);
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 5000 }))).toMatch(/errnoRet: expected a whole number from 0 to 4095/);
    expect(bad(rule({ names: ['read'], action: 'SCMP_ACT_ALLOW', flavour: 1 }))).toMatch(/syscalls\[0\]: unknown field "flavour"/);
    expect(bad(rule({ name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' }))).toMatch(/either name or names/);
    expect(bad(rule({ names: [], action: 'SCMP_ACT_ALLOW' }))).toMatch(/names no syscall/);
    expect(bad(rule({ names: ['Read;'], action: 'SCMP_ACT_ALLOW' }))).toMatch(/names\[0\]: "Read;" is not a syscall name/);
  });

  it('refuses unknown capabilities, architectures and kernel versions in conditions', () => {
    expect(bad(rule({ names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_GOD'] } }))).toMatch(/includes\.caps\[0\]: unknown capability "CAP_SYS_GOD"/);
    expect(bad(rule({ names: ['a'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['vax'] } }))).toMatch(/excludes\.arches\[0\]: unknown architecture "vax"/);
    expect(bad(rule({ names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }))).toMatch(/minKernel: expected "MAJOR\.MINOR"/);
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] })).toMatch(/architectures\[0\]: unknown architecture "SCMP_ARCH_VAX"/);
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] })).toMatch(/either architectures or archMap/);
  });

  it('refuses what the shim cannot do: listeners and filter flags', () => {
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock' })).toMatch(/listenerPath: seccomp notification listeners are not supported/);
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] })).toMatch(/flags: filter flags are not supported/);
  });
});

describe('--security-opt', () => {
  it('takes Docker\'s spellings', () => {
    expect(parseSecurityOpts([]).seccomp).toBe('builtin');
    expect(parseSecurityOpts(['seccomp=unconfined']).seccomp).toBe('unconfined');
    expect(parseSecurityOpts(['seccomp:unconfined', 'no-new-privileges']).seccomp).toBe('unconfined');
    expect(parseSecurityOpts(['no-new-privileges=true', 'no-new-privileges:true']).noNewPrivileges).toBe(true);
    expect(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp).toEqual({ text: '{"defaultAction":"SCMP_ACT_ALLOW"}' });
  });
  it('refuses what it cannot honour', () => {
    expect(() => parseSecurityOpts(['no-new-privileges=false'])).toThrow(/not supported; Corral always sets no_new_privs/);
    expect(() => parseSecurityOpts(['apparmor=unconfined'])).toThrow(/unknown or unsupported option/);
    expect(() => parseSecurityOpts(['seccomp='])).toThrow(/unknown or unsupported option/);
    expect(() => parseSecurityOpts(['seccomp=unconfined', 'seccomp=builtin'])).toThrow(/given twice/);
  });

  it('gives a container the default profile, a custom one with its source and digest, or none', () => {
    const d = seccompForContainer(parseSecurityOpts([]), DEFAULT_CAPABILITIES);
    expect(d.config).toEqual({ profile: 'default', source: null, sha256: createHash('sha256').update(defaultSeccompProfileText()).digest('hex') });
    expect(d.filter).toMatch(/^corral-seccomp 1\n/);
    const text = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}';
    const c = seccompForContainer(parseSecurityOpts([`seccomp=${text}`]), [], '/p.json');
    expect(c.config).toEqual({ profile: 'custom', source: '/p.json', sha256: createHash('sha256').update(text).digest('hex') });
    expect(c.profile).toBe(text);
    expect(c.filter).toBe('corral-seccomp 1\ndefault allow\nrule errno:1 mkdir\n');
    expect(seccompForContainer(parseSecurityOpts(['seccomp=unconfined']), [])).toEqual({ config: { profile: 'unconfined', source: null, sha256: null }, profile: null, filter: null });
    expect(() => seccompForContainer(parseSecurityOpts(['seccomp={"defaultAction":1}']), [], '/p.json')).toThrow(/^seccomp profile \/p\.json: defaultAction/);
  });

  it('is validated in a create request, and stored in the config', () => {
    expect(configFromRequest({ template: 'busybox' }).seccomp.profile).toBe('default');
    expect(configFromRequest({ template: 'busybox', securityOpt: ['seccomp=unconfined'] }).seccomp.profile).toBe('unconfined');
    expect(() => configFromRequest({ template: 'busybox', securityOpt: 'seccomp=unconfined' })).toThrow(/securityOpt: expected a list/);
    expect(() => configFromRequest({ template: 'busybox', seccompSource: '/p.json' })).toThrow(/seccompSource: only with a seccomp profile/);
    expect(() => configFromRequest({ template: 'busybox', securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_NOPE"}'], seccompSource: '/p.json' })).toThrow(/^seccomp profile \/p\.json: defaultAction: unknown action/);
  });

  it('writes the profile and its flat form, compiles it once per flat text, and names the profile when the compiler refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-seccomp-files-'));
    try {
      const cacheDir = join(dir, 'cache');
      const text = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}';
      const f = seccompForContainer(parseSecurityOpts([`seccomp=${text}`]), [], '/p.json');
      const calls: string[] = [];
      const compile = async (flat: string, out: string): Promise<void> => {
        calls.push(`${flat} ${out}`);
        writeFileSync(out, Buffer.alloc(16, 7));
      };
      for (const c of ['a', 'b']) {
        mkdirSync(join(dir, c));
        await writeSeccompFiles(join(dir, c), f, { compile, cacheDir });
        expect(readFileSync(join(dir, c, 'seccomp.json'), 'utf8')).toBe(text);
        expect(readFileSync(join(dir, c, 'seccomp.flat'), 'utf8')).toBe(f.filter);
        expect(readFileSync(join(dir, c, 'seccomp.bpf'))).toEqual(Buffer.alloc(16, 7));
      }
      expect(calls).toEqual([`${join(dir, 'a', 'seccomp.flat')} ${join(dir, 'a', 'seccomp.bpf')}`]); // b came from the cache
      const entry = join(cacheDir, `${createHash('sha256').update(f.filter!).digest('hex')}.bpf`);
      writeFileSync(entry, 'torn'); // not a whole program: compiled again
      mkdirSync(join(dir, 'c'));
      await writeSeccompFiles(join(dir, 'c'), f, { compile, cacheDir });
      expect(calls).toHaveLength(2);
      expect(readFileSync(entry)).toEqual(Buffer.alloc(16, 7));
      const other = seccompForContainer(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_LOG"}']), [], '/q.json');
      await expect(writeSeccompFiles(join(dir, 'c'), other, { compile: async () => Promise.reject(new Error('seccomp profile /d/seccomp.flat:3: add rule for mkdir: File exists')), cacheDir })).rejects.toThrow(
        'seccomp profile /q.json: seccomp profile /d/seccomp.flat:3: add rule for mkdir: File exists',
      );
      const none = join(dir, 'none');
      await writeSeccompFiles(none, seccompForContainer(parseSecurityOpts(['seccomp=unconfined']), []), {
        compile: async () => {
          throw new Error('not called');
        },
        cacheDir,
      });
      expect(existsSync(none)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the filter file only when there is a filter', () => {
    expect(seccompFilterFile('/d', { seccomp: { profile: 'default', source: null, sha256: 'x' } })).toBe('/d/seccomp.bpf');
    expect(seccompFilterFile('/d', { seccomp: { profile: 'unconfined', source: null, sha256: null } })).toBeUndefined();
  });

  it('keeps containers created before seccomp unconfined', () => {
    const r = migrateConfig({ version: 1, id: 'a', name: 'a', template: 'busybox', createdAt: 'now', command: [], env: [], volumes: [] });
    expect('config' in r && r.config.seccomp).toEqual({ profile: 'unconfined', source: null, sha256: null });
    const cur = migrateConfig({ version: CONFIG_VERSION, id: 'a', name: 'a', template: 'busybox', createdAt: 'now', command: [], env: [], volumes: [], seccomp: { profile: 'default', source: null, sha256: 'x' } });
    expect('config' in cur && cur.config.seccomp.profile).toBe('default');
  });
});

describe('the CLI reads seccomp=FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-seccomp-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sends the file\'s text and where it came from', () => {
    writeFileSync(join(dir, 'ok.json'), '{"defaultAction":"SCMP_ACT_ALLOW"}');
    expect(securityOptsToRequest(['seccomp=ok.json', 'no-new-privileges'], dir)).toEqual({ securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'no-new-privileges'], seccompSource: join(dir, 'ok.json') });
    expect(securityOptsToRequest(['seccomp=unconfined'], dir)).toEqual({ securityOpt: ['seccomp=unconfined'] });
  });
  it('names a missing or bad file', () => {
    expect(() => securityOptsToRequest(['seccomp=nope.json'], dir)).toThrow(`--security-opt seccomp=nope.json: open ${join(dir, 'nope.json')}: no such file or directory`);
    writeFileSync(join(dir, 'bad.json'), '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"ALLOW"}]}');
    expect(() => securityOptsToRequest(['seccomp=bad.json'], dir)).toThrow(`seccomp profile ${join(dir, 'bad.json')}: syscalls[0].action: unknown action "ALLOW"`);
  });
});
