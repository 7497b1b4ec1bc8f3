import { describe, expect, it } from 'vitest';
import { corral, uniqueName } from '../support/corral.js';

describe('corral port', () => {
  it("prints the published ports in Docker's format, all or one", async () => {
    const name = uniqueName('port');
    // High ports of this test's own; create refuses one that anything else holds.
    const [a, b] = [20000 + (process.pid % 20000), 40000 + (process.pid % 20000)];
    const made = await corral(['create', '--name', name, '-p', `${a}:80`, '-p', `127.0.0.1:${b}:53/udp`, 'busybox', 'true']);
    expect(made.exitCode).toBe(0);
    try {
      const all = await corral(['port', name]);
      expect(all).toMatchObject({ exitCode: 0, stdout: `80/tcp -> 0.0.0.0:${a}\n53/udp -> 127.0.0.1:${b}\n` });
      expect((await corral(['port', name, '80'])).stdout).toBe(`0.0.0.0:${a}\n`);
      expect((await corral(['port', name, '53/udp'])).stdout).toBe(`127.0.0.1:${b}\n`);
      const json = JSON.parse((await corral(['port', '--format', 'json', name])).stdout);
      expect(json).toEqual([
        { hostIp: '0.0.0.0', hostPort: a, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: b, containerPort: 53, protocol: 'udp' },
      ]);
      const none = await corral(['port', name, '53']);
      expect(none.exitCode).toBe(1);
      expect(none.stderr).toBe(`corral: no public port '53/tcp' published for ${name}\n`);
      const bad = await corral(['port', name, '80/sctp']);
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toMatch(/expected PORT\[\/tcp\|udp\]/);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('prints nothing for a container without published ports', async () => {
    const name = uniqueName('port-none');
    await corral(['create', '--name', name, 'busybox', 'true']);
    try {
      expect(await corral(['port', name])).toMatchObject({ exitCode: 0, stdout: '' });
    } finally {
      await corral(['rm', '-f', name]);
    }
  });
});
