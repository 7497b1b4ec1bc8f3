import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral, inspect, installation, ROOT, SHIM, sh, uniqueName } from '../support/corral.js';

/**
 * The default seccomp profile, tried as an attacker with container root would: a static probe
 * (test/native/seccomp-probe.c) bound into the container calls what the profile forbids and
 * reports each errno (0: it worked).
 */
const EPERM = 1;
const ENOSYS = 38;
let tmp: string;
let probe: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'corral-seccomp-'));
  probe = join(tmp, 'probe');
  execFileSync('gcc', ['-static', '-O2', '-o', probe, join(ROOT, 'test/native/seccomp-probe.c')], { stdio: 'pipe' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function parse(out: string): { seccomp: string | undefined; noNewPrivs: string | undefined; errno: Record<string, number> } {
  const errno: Record<string, number> = {};
  let seccomp: string | undefined;
  let noNewPrivs: string | undefined;
  for (const line of out.trim().split('\n')) {
    const status = /^(Seccomp|NoNewPrivs):\s+(\d+)$/.exec(line);
    if (status?.[1] === 'Seccomp') seccomp = status[2];
    else if (status?.[1] === 'NoNewPrivs') noNewPrivs = status[2];
    else {
      const [name, value] = line.split(' ');
      errno[name!] = Number(value);
    }
  }
  return { seccomp, noNewPrivs, errno };
}

const SCRIPT = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; /probe";
const probed = async (extra: string[] = []) => parse(await sh(SCRIPT, ['-v', `${probe}:/probe:ro`, ...extra]));

describe('seccomp: the default profile', () => {
  it('is in force in PID 1 and refuses what Docker refuses: keyrings, namespaces, io_uring, userfaultfd, perf', async () => {
    const r = await probed();
    expect(r.seccomp).toBe('2');
    expect(r.noNewPrivs).toBe('1');
    expect(r.errno).toEqual({
      keyctl: EPERM, add_key: EPERM, request_key: EPERM,
      unshare_user: EPERM, unshare_mount: EPERM, clone_newuser: EPERM,
      // clone3's flags are in memory a filter cannot read: ENOSYS makes libcs fall back to clone.
      clone3: ENOSYS,
      io_uring_setup: EPERM, userfaultfd: EPERM, perf_event_open: EPERM,
      getpid: 0,
    });
  });

  it('--security-opt seccomp=unconfined loads no filter: the same calls reach the kernel', async () => {
    const r = await probed(['--security-opt', 'seccomp=unconfined']);
    expect(r.seccomp).toBe('0');
    expect(r.errno).toMatchObject({ keyctl: 0, add_key: 0, request_key: 0, unshare_user: 0, clone_newuser: 0, clone3: 0, io_uring_setup: 0, userfaultfd: 0, perf_event_open: 0 });
    // Without CAP_SYS_ADMIN the kernel itself refuses a mount namespace.
    expect(r.errno.unshare_mount).toBe(EPERM);
  });

  it('--cap-add SYS_ADMIN allows namespaces (and perf), as Docker does; keyrings stay closed', async () => {
    const r = await probed(['--cap-add', 'SYS_ADMIN']);
    expect(r.seccomp).toBe('2');
    expect(r.errno).toMatchObject({ unshare_user: 0, unshare_mount: 0, clone_newuser: 0, clone3: 0, perf_event_open: 0, keyctl: EPERM, add_key: EPERM, io_uring_setup: EPERM });
  });

  it('filters every exec session and the --init reaper too', async () => {
    const name = uniqueName('seccomp-exec');
    expect((await corral(['run', '-d', '--init', '--name', name, '-v', `${probe}:/probe:ro`, 'busybox', 'sleep', '300'])).exitCode).toBe(0);
    try {
      const r = await corral(['exec', name, 'sh', '-c', `${SCRIPT}; grep '^Seccomp:' /proc/1/status`]);
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.at(-1)).toMatch(/^Seccomp:\s+2$/); // PID 1, the reaper
      const e = parse(lines.slice(0, -1).join('\n'));
      expect(e.seccomp).toBe('2');
      expect(e.errno).toMatchObject({ keyctl: EPERM, unshare_user: EPERM, io_uring_setup: EPERM, getpid: 0 });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('shows the profile in inspect: default with its digest, or unconfined', async () => {
    const name = uniqueName('seccomp-inspect');
    const other = uniqueName('seccomp-unconf');
    expect((await corral(['create', '--name', name, 'busybox', 'true'])).exitCode).toBe(0);
    expect((await corral(['create', '--name', other, '--security-opt', 'seccomp=unconfined', 'busybox', 'true'])).exitCode).toBe(0);
    try {
      expect((await inspect(name)).config.seccomp).toEqual({ profile: 'default', source: null, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect((await inspect(other)).config.seccomp).toEqual({ profile: 'unconfined', source: null, sha256: null });
    } finally {
      await corral(['rm', '-f', name, other]);
    }
  });

  it('leaves ordinary work alone: busybox tools, ping on loopback, httpd, --user, a tty', async () => {
    const out = await sh(
      'ping -c1 -W5 127.0.0.1 >/dev/null && echo ping-ok; httpd -p 127.0.0.1:8080 -h /etc && wget -qO- http://127.0.0.1:8080/hostname; ' +
        'ls / >/dev/null && ps >/dev/null && date >/dev/null && echo tools-ok',
      ['--hostname', 'sc-host'],
    );
    expect(out.trim().split('\n')).toEqual(['ping-ok', 'sc-host', 'tools-ok']);
    expect((await sh("id -u; grep '^Seccomp:' /proc/self/status", ['--user', '1000:1000'])).trim().split('\n')).toEqual(['1000', 'Seccomp:\t2']);
    const t = await corral(['run', '--rm', '-t', 'busybox', 'sh', '-c', "tty; grep '^Seccomp:' /proc/self/status"]);
    expect(t.exitCode).toBe(0);
    expect(t.stdout).toMatch(/\/dev\/(console|pts\/\d+)\r?\nSeccomp:\t2/);
  });
});

describe('seccomp: --security-opt', () => {
  it('seccomp=FILE loads a Docker-format profile, recorded in inspect with its file and digest', async () => {
    const file = join(tmp, 'no-mkdir.json');
    writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    const name = uniqueName('seccomp-file');
    const r = await corral(['run', '--name', name, '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', 'mkdir /x 2>&1; touch /y && echo touched']);
    try {
      expect(r.stdout).toMatch(/Permission denied/);
      expect(r.stdout).toMatch(/touched/);
      const c = (await inspect(name)).config.seccomp;
      expect(c.profile).toBe('custom');
      expect(c.source).toBe(file);
      expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('a bad profile fails at create, naming the file and the problem, and leaves no container', async () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_PERMIT' }] }));
    const name = uniqueName('seccomp-bad');
    const r = await corral(['run', '--name', name, '--security-opt', `seccomp=${file}`, 'busybox', 'true']);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toContain(`seccomp profile ${file}: syscalls[0].action: unknown action "SCMP_ACT_PERMIT"`);
    const missing = await corral(['run', '--name', name, '--security-opt', `seccomp=${join(tmp, 'nope.json')}`, 'busybox', 'true']);
    expect(missing.exitCode).toBe(125);
    expect(missing.stderr).toMatch(/nope\.json: no such file or directory/);
    expect((await corral(['ps', '-a'])).stdout).not.toContain(name);
  });

  it('no-new-privileges is accepted (it is always on); =false and unknown options are refused', async () => {
    expect(parse(await sh("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status", ['--security-opt', 'no-new-privileges'])).noNewPrivs).toBe('1');
    const off = await corral(['run', '--rm', '--security-opt', 'no-new-privileges=false', 'busybox', 'true']);
    expect(off.exitCode).toBe(125);
    expect(off.stderr).toMatch(/no-new-privileges=false: not supported/);
    const unknown = await corral(['run', '--rm', '--security-opt', 'apparmor=foo', 'busybox', 'true']);
    expect(unknown.exitCode).toBe(125);
    expect(unknown.stderr).toMatch(/unknown or unsupported option/);
  });
});

describe('seccomp: the native side checks its input too', () => {
  it('corral-seccomp refuses a malformed flat profile, naming the file and line', () => {
    const flat = join(tmp, 'bad.flat');
    const out = join(tmp, 'bad.bpf');
    for (const [text, why] of [
      ['corral-seccomp 1\ndefault allow\nrule permit read\n', 'bad.flat:3: unknown action "permit"'],
      ['corral-seccomp 1\ndefault allow\nrule errno:1 read a6:eq:1\n', 'bad.flat:3: bad argument condition "a6:eq:1"'],
      ['corral-seccomp 1\ndefault allow\nrule errno:1 read a0:masked_eq:1\n', 'bad.flat:3: masked_eq takes MASK:VALUE'],
      ['corral-seccomp 1\ndefault allow\narch vax\n', 'bad.flat:3: unknown architecture "vax"'],
      ['corral-seccomp 2\ndefault allow\n', 'bad.flat:1: expected "corral-seccomp 1"'],
      ['corral-seccomp 1\ndefault allow\nrule allow  read\n', 'bad.flat:3: malformed line'],
      ['corral-seccomp 1\ndefault allow', 'not text ending in a newline'],
    ] as const) {
      writeFileSync(flat, text);
      const r = spawnSync(join(dirname(SHIM), 'corral-seccomp'), [flat, out], { encoding: 'utf8' });
      expect(r.status, text).toBe(1);
      expect(r.stderr).toContain(why);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('a damaged compiled filter fails the start with a message naming it, and nothing runs', async () => {
    const name = uniqueName('seccomp-damaged');
    const id = (await corral(['create', '--name', name, 'busybox', 'true'])).stdout.trim();
    try {
      const bpf = join(installation().dataRoot, 'containers', id, 'seccomp.bpf');
      expect(readFileSync(bpf).length % 8).toBe(0);
      writeFileSync(bpf, 'garbage');
      const r = await corral(['start', name]);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain(`seccomp filter ${bpf}: not a BPF program`);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
