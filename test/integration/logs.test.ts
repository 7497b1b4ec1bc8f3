import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, corral, envOf, installation, uniqueName } from '../support/corral.js';

describe('corral logs', () => {
  it('shows output kept on disk, also after the container exits', async () => {
    const name = uniqueName('logs');
    await corral(['run', '--name', name, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; echo err >&2']);
    try {
      const all = await corral(['logs', name]);
      expect(all.stdout).toBe('line1\nline2\nline3\nline4\nline5\n');
      expect(all.stderr).toBe('err\n');
      expect((await corral(['logs', '--tail', '2', name])).stdout + (await corral(['logs', '--tail', '2', name])).stderr).toBe('line5\nerr\n');
      const ts = await corral(['logs', '--timestamps', '--tail', '1', name]);
      expect(ts.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z err\n$/);
    } finally {
      await corral(['rm', name]);
    }
  });

  it('follows a running container until it exits', async () => {
    const name = uniqueName('follow');
    await corral(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'echo first; sleep 1; echo second']);
    try {
      const r = await execa(process.execPath, [CLI, 'logs', '-f', name], { env: envOf(installation()), reject: false, timeout: 20_000 });
      expect(r.stdout).toBe('first\nsecond');
      expect(r.exitCode).toBe(0);
    } finally {
      await corral(['rm', '-f', name]);
    }
  });

  it('keeps a line without a newline', async () => {
    const name = uniqueName('partial');
    await corral(['run', '--name', name, 'busybox', 'printf', 'no newline']);
    try {
      expect((await corral(['logs', name])).stdout).toBe('no newline');
    } finally {
      await corral(['rm', name]);
    }
  });
});
