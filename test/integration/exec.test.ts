import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corral, uniqueName } from '../support/corral.js';

describe('corral exec', () => {
  const name = uniqueName('exec');
  beforeAll(async () => {
    const r = await corral(['run', '-d', '--name', name, '--hostname', 'exec-host', '-e', 'FROM_RUN=1', 'busybox', 'sleep', '300']);
    expect(r.exitCode).toBe(0);
  });
  afterAll(async () => {
    await corral(['rm', '-f', name]);
  });

  it('joins the container namespaces: same hostname, same processes, same root', async () => {
    const r = await corral(['exec', name, 'sh', '-c', 'hostname; ps -o pid,comm | sed 1d | head -1 | tr -s " "; cat /etc/hostname']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('exec-host\n 1 sleep\nexec-host\n');
  });

  it('joins the container cgroup', async () => {
    const inspect = JSON.parse((await corral(['inspect', name])).stdout)[0];
    const r = await corral(['exec', name, 'sh', '-c', 'cat /proc/self/cgroup; sleep 0.1']);
    for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/:\/$/);
    expect(inspect.cgroup.paths.length).toBeGreaterThan(0);
  });

  it("has the container's capabilities and no_new_privs", async () => {
    const r = await corral(['exec', name, 'grep', '-E', '^(CapBnd|NoNewPrivs)', '/proc/self/status']);
    expect(r.stdout).toMatch(/CapBnd:\s+00000000a80425fb/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
  });

  it('takes -e, -u and -w, and inherits the container env', async () => {
    const r = await corral(['exec', '-e', 'X=2', '-u', '1000:1000', '-w', '/tmp', name, 'sh', '-c', 'echo $FROM_RUN $X; id -u; pwd']);
    expect(r.stdout).toBe('1 2\n1000\n/tmp\n');
  });

  it('returns the exit code of the command', async () => {
    expect((await corral(['exec', name, 'sh', '-c', 'exit 5'])).exitCode).toBe(5);
    const missing = await corral(['exec', name, 'nope']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/nope.*not found/);
  });

  it('passes stdin with -i', async () => {
    expect((await corral(['exec', '-i', name, 'cat'], { input: 'piped\n' })).stdout).toBe('piped\n');
  });

  it('refuses a container that is not running', async () => {
    const stopped = uniqueName('exec-stopped');
    await corral(['create', '--name', stopped, 'busybox']);
    try {
      const r = await corral(['exec', stopped, 'true']);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/not running/);
    } finally {
      await corral(['rm', stopped]);
    }
  });
});
