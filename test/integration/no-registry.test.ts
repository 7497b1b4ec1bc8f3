import { describe, expect, it } from 'vitest';
import { corral } from '../support/corral.js';

describe('corral pull, push, login', () => {
  for (const args of [['pull', 'alpine:3.19'], ['push', 'me/app:1'], ['login', '-u', 'me', '--password-stdin', 'registry.example']]) {
    it(`${args[0]} says there is no registry client and points to template load`, async () => {
      const r = await corral(args);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^corral: ${args[0]}: Corral has no registry client; .*corral template load`));
      expect(r.stderr).not.toMatch(/did you mean|unknown command/i);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('pull --help shows the way in', async () => {
    const r = await corral(['pull', '--help']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/corral template load/);
  });
});
