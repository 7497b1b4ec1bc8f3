import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, corral, envOf, installation, uniqueName } from '../support/corral.js';

describe('corral attach and wait', () => {
  it('attach streams output and input of a running -i container and returns its exit code', async () => {
    const name = uniqueName('attach');
    await corral(['run', '-d', '-i', '--name', name, 'busybox', 'sh', '-c', 'echo ready; read line; echo "got $line"; exit 6']);
    try {
      const r = await execa(process.execPath, [CLI, 'attach', name], { env: envOf(installation()), input: 'hello\n', reject: false, timeout: 20_000 });
      expect(r.stdout).toBe('got hello');
      expect(r.exitCode).toBe(6);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('wait prints the exit code once the container stops', async () => {
    const name = uniqueName('wait');
    await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'sleep 0.5; exit 9']);
    try {
      const r = await corral(['wait', name]);
      expect(r).toMatchObject({ stdout: '9\n', exitCode: 0 });
      const stopped = await corral(['attach', name]);
      expect(stopped.exitCode).not.toBe(0);
      expect(stopped.stderr).toMatch(/not running/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('version shows client and server', async () => {
    const r = await corral(['version']);
    expect(r.stdout).toMatch(/Client:[\s\S]*Version:[\s\S]*Server:[\s\S]*API version:\s+v1[\s\S]*Cgroup driver:\s+v[12]/);
  });
});
