import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI, corral, envOf, inspect, installation, uniqueName, until } from '../support/corral.js';

/**
 * System containers (`--boot`) on the shared Debian template (test/support/debian-template.ts
 * builds it with systemd-sysv and openssh-server): systemd boots to `running` as PID 1 of a
 * private user namespace, sshd answers on a published port, `reboot` inside comes back with a new
 * boot id, `poweroff` stops it, `corral stop` halts it with SIGRTMIN+3.
 */
const name = uniqueName('boot');
const port = 20000 + ((process.pid + 7919) % 20000);

async function exec(...cmd: string[]): Promise<string> {
  const r = await corral(['exec', name, ...cmd], { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new Error(`exec ${cmd.join(' ')}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/**
 * `systemctl is-system-running --wait` blocks until the boot is over (systemd's own word). Asked
 * before systemd listens on /run/systemd/private it prints nothing ("Failed to connect to bus"):
 * then it is asked again.
 */
async function bootFinished(): Promise<string> {
  return until(
    'systemd to answer is-system-running',
    async () => (await corral(['exec', name, 'systemctl', 'is-system-running', '--wait'], { timeoutMs: 120_000 })).stdout.trim() || undefined,
    180_000,
  );
}

/** The first bytes sshd sends on a TCP connection to the published port on the host's loopback. */
function banner(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.setTimeout(20_000, () => s.destroy(new Error('no banner within 20 s')));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\n')) {
        s.destroy();
        resolve(got.trim());
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(got.trim()));
  });
}

/** Dirs of the container's cgroup in every hierarchy of the test installation. */
function cgroupDirs(id: string): string[] {
  const parent = installation().cgroupParent;
  return readdirSync('/sys/fs/cgroup')
    .map((h) => join('/sys/fs/cgroup', h, parent, id))
    .filter((d) => existsSync(d));
}

afterAll(async () => {
  await corral(['rm', '-f', name]);
});

describe('corral run --boot (system containers)', () => {
  let id = '';

  it('boots systemd to running in a private user namespace, with a cgroup tree of its own', { timeout: 240_000 }, async () => {
    const started = Date.now();
    const r = await corral(['run', '-d', '--boot', '--name', name, '-p', `127.0.0.1:${port}:22`, 'debian'], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    id = r.stdout.trim();
    expect(await bootFinished()).toBe('running');
    console.log(`boot to running (CLI run → is-system-running): ${Date.now() - started} ms`);

    const info = await inspect(name);
    expect(info.config).toMatchObject({ boot: true, command: ['/sbin/init'], stopSignal: 'SIGRTMIN+3', tty: true });
    expect(info.config.userns.mode).toBe('private');
    // PID 1 is systemd, as the container's root: a host uid of its range, not host root.
    const pid = info.state.pid as number;
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('systemd');
    expect(statSync(`/proc/${pid}`).uid).toBe(info.config.userns.uidBase);
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(env).toContain('container=corral');
    // Its machine-id is the container's (container_uuid), not the template's empty file.
    expect(await exec('cat', '/etc/machine-id')).toBe(id.slice(0, 32));
    // systemd made its own cgroups (init.scope, system.slice) in the delegated subtree, which
    // belongs to the container's root; the limits' cgroup above it does not.
    const unified = (await exec('cat', '/proc/1/cgroup')).split('\n').find((l) => l.startsWith('0::'));
    expect(unified).toBe('0::/init.scope');
    const payloads = cgroupDirs(id).map((d) => join(d, 'payload')).filter((d) => existsSync(join(d, 'init.scope')));
    expect(payloads.length).toBeGreaterThan(0);
    for (const p of payloads) {
      expect(statSync(p).uid).toBe(info.config.userns.uidBase);
      expect(statSync(join(p, '..')).uid).toBe(0);
    }
    // journald runs and has this boot.
    expect(await exec('journalctl', '-b', '--no-pager', '-o', 'cat', '-u', 'systemd-journald')).toMatch(/Journal started|journal/i);
    expect(await exec('sh', '-c', 'ls /etc/ssh/ssh_host_*_key | wc -l')).not.toBe('0');
  });

  it("attaches to its console, where getty asks for a login, and detaches with Ctrl-P Ctrl-Q", async () => {
    const inst = installation();
    const child = spawn(process.execPath, [CLI, 'console', name], { env: { ...process.env, ...envOf(inst) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // An empty login makes agetty ask again: the prompt comes through the console pty even after
      // agetty's vhangup() at its start.
      await until('the connected message', async () => (err.includes('Connected to the console') ? true : undefined), 60_000);
      child.stdin.write('\r');
      await until('a login prompt on the console', async () => (/login: *$/m.test(out) ? true : undefined), 60_000);
      child.stdin.write(Buffer.from([0x10, 0x11]));
      expect(await exited).toBe(0);
      expect(err).toContain('detached');
      expect((await inspect(name)).state.status).toBe('running');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 150_000);

  it('answers on its published sshd port from the host loopback', async () => {
    expect(await banner()).toMatch(/^SSH-2\.0-OpenSSH/);
  });

  it('comes back from a reboot inside, with a new boot id', { timeout: 240_000 }, async () => {
    const bootId = await exec('cat', '/proc/sys/kernel/random/boot_id');
    expect(bootId).not.toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    const pidBefore = (await inspect(name)).state.pid;
    // The exec session may end with the container it runs in.
    await corral(['exec', name, 'systemctl', 'reboot']);
    const after = await until(
      'the container to run again after its reboot',
      async () => {
        const s = (await inspect(name)).state;
        return s.status === 'running' && s.pid !== pidBefore ? s : undefined;
      },
      120_000,
    );
    expect(after.status).toBe('running');
    expect(await bootFinished()).toBe('running');
    expect(await exec('cat', '/proc/sys/kernel/random/boot_id')).not.toBe(bootId);
    // Both boots are in its journal (persistent in /var/log/journal of its own layer).
    expect((await exec('journalctl', '--list-boots', '--no-pager')).split('\n').length).toBeGreaterThanOrEqual(3);
  });

  it('stops when powered off inside, and is not started again', { timeout: 180_000 }, async () => {
    await corral(['exec', name, 'systemctl', 'poweroff']);
    const s = await until('the container to stop after poweroff', async () => {
      const st = (await inspect(name)).state;
      return st.status === 'exited' ? st : undefined;
    }, 120_000);
    // reboot(2) in a pid namespace: the kernel ends init with SIGINT for a halt or power-off.
    expect(s.signal).toBe(2);
    expect((await inspect(name)).state.status).toBe('exited');
  });

  it('corral stop halts it with SIGRTMIN+3, cleanly and quickly', { timeout: 240_000 }, async () => {
    expect((await corral(['start', name])).exitCode).toBe(0);
    expect(await bootFinished()).toBe('running');
    const t0 = Date.now();
    const r = await corral(['stop', '-t', '30', name]);
    const ms = Date.now() - t0;
    expect(r.exitCode).toBe(0);
    const s = (await inspect(name)).state;
    // Halted by its own init (SIGINT from the kernel), not SIGKILLed at the end of the grace time.
    expect(s.signal).toBe(2);
    console.log(`corral stop of a booted container: ${ms} ms (CLI included)`);
    expect(ms).toBeLessThan(30_000);
    // Nothing of it runs: its cgroups are gone with the run.
    expect(cgroupDirs(id)).toEqual([]);
  });
});
