import { chmod, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCI_CGROUP_PARENT, alivePid, makeRootfs, oci, ociOut, ociState, removeCgroupTree, untilDead, untilFile, writeConfig } from '../support/oci.js';

/**
 * corral-oci driven directly, as runc is by its callers: a bundle made from the busybox template,
 * create (the process waits), start, state, exec, kill, delete, and the config.json fields that
 * change what the process sees, each read back from inside.
 */
describe.skipIf(process.getuid?.() !== 0)('corral-oci: the OCI runtime over bundles', () => {
  let work: string;
  let root: string;
  let rootfs: string;
  const ids: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'corral-oci-it-'));
    await chmod(work, 0o755); // a user namespace's root walks to its rootfs
    root = join(work, 'state');
    rootfs = await makeRootfs(work);
  });

  afterAll(async () => {
    for (const id of ids) await oci(root, ['delete', '--force', id]);
    removeCgroupTree();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A bundle sharing the one rootfs copy, with an /out bind mount the container reports through. */
  async function bundle(id: string, edit: (c: Record<string, any>) => void): Promise<{ dir: string; out: string }> {
    const dir = join(work, id);
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);
    const out = join(dir, 'out');
    await mkdir(out, { recursive: true });
    await chmod(out, 0o777); // written by users other than root, and by a user namespace's root
    await writeConfig(dir, root, (c) => {
      c.root = { path: rootfs, readonly: true };
      c.process.terminal = false;
      c.linux.cgroupsPath = `/${OCI_CGROUP_PARENT}/${id}`;
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      edit(c);
    });
    ids.push(id);
    return { dir, out };
  }

  it('create leaves the process waiting, start releases it, and the bundle decides what it sees', async () => {
    const id = `it-${process.pid}-main`;
    const { dir, out } = await bundle(id, (c) => {
      c.hostname = 'ocihost';
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [10] };
      c.process.env.push('GREETING=hi');
      c.process.cwd = '/tmp';
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
      // What survives the exec of a non-root program: the ambient set (which needs it permitted and inheritable).
      c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
      c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 33 } };
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
      c.process.args = ['sh', '-c', [
        'exec >/out/report.tmp 2>&1',
        'echo "host=$(hostname) id=$(id -u):$(id -g) groups=$(id -G) pwd=$(pwd) greeting=$GREETING"',
        'echo "nofile=$(ulimit -n) hard=$(ulimit -Hn)"',
        'grep -E "^(CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status',
        'echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) pids=$(cat /sys/fs/cgroup/pids/pids.max)"',
        'echo "forward=$(cat /proc/sys/net/ipv4/ip_forward)"',
        'touch /rootfile 2>/dev/null && echo root=rw || echo root=ro',
        'echo "keys=$(wc -c </proc/keys) firmware=$(ls /sys/firmware | wc -l)"',
        'touch /proc/sys/kernel/domainname 2>/dev/null; echo > /proc/sysrq-trigger 2>/dev/null && echo sysrq=rw || echo sysrq=ro',
        'ls -l /dev/null | cut -c1',
        'mv /out/report.tmp /out/report',
        'exec sleep 1000',
      ].join('\n')];
    });
    const pidFile = join(work, `${id}.pid`);
    const created = await oci(root, ['create', '--bundle', dir, '--pid-file', pidFile, id]);
    expect(created.exitCode, created.stderr).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const s1 = await ociState(root, id);
    expect(s1).toMatchObject({ status: 'created', pid, bundle: dir });
    // Waiting: set up, but its program has not run.
    expect(existsSync(join(out, 'report'))).toBe(false);
    expect((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0]).not.toBe('sh');

    const started = await oci(root, ['start', id]);
    expect(started.exitCode, started.stderr).toBe(0);
    const report = await untilFile(join(out, 'report'), pid);
    expect((await ociState(root, id)).status).toBe('running');
    expect(report).toContain('host=ocihost id=1000:1000 groups=1000 10 pwd=/tmp greeting=hi');
    expect(report).toContain('nofile=321 hard=654');
    expect(report).toMatch(/CapEff:\s+0000000000000020/); // CAP_KILL only
    expect(report).toMatch(/CapAmb:\s+0000000000000020/);
    expect(report).toMatch(/CapBnd:\s+0000000000000021/);
    expect(report).toMatch(/NoNewPrivs:\s+1/);
    expect(report).toContain(`mem=${64 * 1024 * 1024} pids=33`);
    expect(report).toContain('forward=1');
    expect(report).toContain('root=ro');
    expect(report).toContain('keys=0 firmware=0'); // masked: /dev/null on a file, an empty tmpfs on a directory
    expect(report).toContain('sysrq=ro');
    expect(report).toContain('\nc\n');
    // The limits are the kernel's, on the cgroupsPath asked for.
    expect(readFileSync(`/sys/fs/cgroup/memory/${OCI_CGROUP_PARENT}/${id}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(64 * 1024 * 1024));
    expect(readFileSync(`/sys/fs/cgroup/pids/${OCI_CGROUP_PARENT}/${id}/cgroup.procs`, 'utf8').trim()).toBe(String(pid));

    // exec with a process.json, detached, as containerd's shim and conmon call it.
    const proc = join(work, `${id}-proc.json`);
    await writeFile(proc, JSON.stringify({ args: ['sh', '-c', 'echo "exec $(id -u) $(cat /proc/1/cmdline | tr "\\0" " ")" > /out/exec'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin:/usr/bin'] }));
    const execPid = join(work, `${id}-exec.pid`);
    const ex = await oci(root, ['exec', '--process', proc, '--detach', '--pid-file', execPid, id]);
    expect(ex.exitCode, ex.stderr).toBe(0);
    expect(Number(readFileSync(execPid, 'utf8'))).toBeGreaterThan(0);
    expect(await untilFile(join(out, 'exec'), pid)).toBe('exec 0 sleep 1000 \n');
    // In the foreground, exec's status is the process's.
    expect((await oci(root, ['exec', id, 'sh', '-c', 'exit 7'])).exitCode).toBe(7);

    const ps = await ociOut(root, ['ps', '--format', 'json', id]);
    expect(JSON.parse(ps.stdout)).toContain(pid);
    const stats = await ociOut(root, ['events', '--stats', id]);
    expect(JSON.parse(stats.stdout).data.pids.current).toBeGreaterThanOrEqual(1);

    expect((await oci(root, ['pause', id])).exitCode).toBe(0);
    expect((await ociState(root, id)).status).toBe('paused');
    expect((await oci(root, ['resume', id])).exitCode).toBe(0);
    expect((await ociState(root, id)).status).toBe('running');

    const refused = await oci(root, ['delete', id]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('running');
    expect((await oci(root, ['kill', id, 'KILL'])).exitCode).toBe(0);
    await untilDead(pid);
    expect((await ociState(root, id)).status).toBe('stopped');
    expect((await oci(root, ['delete', id])).exitCode).toBe(0);
    expect(existsSync(`/sys/fs/cgroup/memory/${OCI_CGROUP_PARENT}/${id}`)).toBe(false);
    expect(existsSync(join(root, id))).toBe(false);
    expect((await ociOut(root, ['state', id])).exitCode).toBe(1);
  });

  it('joins a namespace by path, makes a user namespace with the given maps, and runs hooks', async () => {
    const a = `it-${process.pid}-a`;
    const ba = await bundle(a, (c) => {
      c.process.args = ['sh', '-c', 'readlink /proc/self/ns/net > /out/net; exec sleep 1000'];
    });
    expect((await oci(root, ['create', '--bundle', ba.dir, a])).exitCode).toBe(0);
    expect((await oci(root, ['start', a])).exitCode).toBe(0);
    const pidA = (await ociState(root, a)).pid;
    const netA = await untilFile(join(ba.out, 'net'), pidA);
    expect(netA.trim()).toBe(await readlink(`/proc/${pidA}/ns/net`));

    const b = `it-${process.pid}-b`;
    const hookOut = join(work, 'hooks');
    // Its own copy of the rootfs, owned by the host ids its root maps to (as engines prepare it).
    const mapped = await makeRootfs(join(work, 'mapped'), 2000000);
    const bb = await bundle(b, (c) => {
      c.root = { path: mapped, readonly: true };
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/proc/${pidA}/ns/net` } : n));
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 2000000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 2000000, size: 65536 }];
      // The sysfs of a network namespace owned by another user namespace cannot be mounted: bound instead.
      c.process.args = ['sh', '-c', 'echo "$(readlink /proc/self/ns/net) $(cat /proc/self/uid_map | tr -s " ")" > /out/ns; exec sleep 1000'];
      c.hooks = {
        prestart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${hookOut}.prestart`] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${hookOut}.poststop`] }],
      };
    });
    const created = await oci(root, ['create', '--bundle', bb.dir, b]);
    expect(created.exitCode, created.stderr).toBe(0);
    const hookState = JSON.parse(readFileSync(`${hookOut}.prestart`, 'utf8'));
    expect(hookState).toMatchObject({ id: b, status: 'created', bundle: bb.dir });
    expect((await oci(root, ['start', b])).exitCode).toBe(0);
    const ns = await untilFile(join(bb.out, 'ns'), hookState.pid);
    expect(ns.trim().replace(/\s+/g, ' ')).toBe(`${netA.trim()} 0 2000000 65536`);
    // By number (PID 1 of a pid namespace ignores SIGTERM without a handler: 9).
    expect((await oci(root, ['kill', b, '9'])).exitCode).toBe(0);
    await untilDead(hookState.pid);
    expect((await oci(root, ['delete', b])).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(`${hookOut}.poststop`, 'utf8'))).toMatchObject({ id: b, status: 'stopped' });
    expect((await oci(root, ['delete', '--force', a])).exitCode).toBe(0);
    expect(alivePid(pidA)).toBe(false);
  });

  it('translates seccomp to a filter, and refuses what it cannot do', async () => {
    const id = `it-${process.pid}-sec`;
    const { dir, out } = await bundle(id, (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: [] });
      c.process.args = ['sh', '-c', 'mkdir /tmp/x 2>/out/mkdir.err; echo "rc=$?" > /out/mkdir'];
    });
    expect((await oci(root, ['create', '--bundle', dir, id])).exitCode).toBe(0);
    expect((await oci(root, ['start', id])).exitCode).toBe(0);
    expect(await untilFile(join(out, 'mkdir'))).toBe('rc=1\n');
    expect(readFileSync(join(out, 'mkdir.err'), 'utf8')).toContain('Operation not permitted');
    const pid = (await ociState(root, id)).pid;
    await untilDead(pid);
    expect((await oci(root, ['delete', id])).exitCode).toBe(0);

    expect((await oci(root, ['--systemd-cgroup', 'state', id])).stderr).toContain('--systemd-cgroup: not supported');
    const dup = `it-${process.pid}-dup`;
    const bd = await bundle(dup, (c) => (c.process.args = ['true']));
    expect((await oci(root, ['create', '--bundle', bd.dir, dup])).exitCode).toBe(0);
    const again = await oci(root, ['create', '--bundle', bd.dir, dup]);
    expect(again.stderr).toContain(`container ${dup} already exists`);
    // A created container is deleted without --force (runc's rule); its process goes with it.
    const pidDup = (await ociState(root, dup)).pid;
    expect((await oci(root, ['delete', dup])).exitCode).toBe(0);
    expect(alivePid(pidDup)).toBe(false);
    const logFile = join(work, 'log.json');
    const missing = await oci(root, ['--log', logFile, '--log-format', 'json', 'start', 'nosuch']);
    expect(missing.exitCode).toBe(1);
    expect(JSON.parse(readFileSync(logFile, 'utf8').trim().split('\n').pop()!)).toMatchObject({ level: 'error', msg: 'container nosuch does not exist' });
  });

  it('answers features and version', async () => {
    const f = await ociOut(root, ['features']);
    expect(JSON.parse(f.stdout).linux.namespaces).toContain('user');
    expect((await ociOut(root, ['--version'])).stdout).toMatch(/^corral-oci version \S+\nspec: 1\.1\.0$/);
  });
});
