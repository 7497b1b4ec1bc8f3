import { execa } from 'execa';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, corral, envOf, installation, uniqueName } from '../support/corral.js';

function stateDirs(): string[] {
  try {
    return readdirSync(join(installation().dataRoot, 'containers'));
  } catch {
    return [];
  }
}

describe('bad input gets one specific error and leaves nothing behind', () => {
  it.each([
    [['run', '--name', 'bad name', 'busybox', 'true'], /invalid container name "bad name"/],
    [['run', '--name', '-x', 'busybox', 'true'], /invalid container name|unknown option/],
    [['run', '--rm', 'no-such-template', 'true'], /template "no-such-template" not found \(available: busybox\b/],
    [['run', '--rm', '-v', '/definitely/not/here:/data', 'busybox', 'true'], /\/definitely\/not\/here/],
    [['run', '--rm', '-w', 'relative', 'busybox', 'true'], /workdir.*absolute/],
    [['run', '--rm', '--cap-add', 'BOGUS', 'busybox', 'true'], /unknown capability/],
    [['start', 'no-such-container'], /no such container: no-such-container/],
    [['stop', 'no-such-container'], /no such container/],
    [['logs', 'no-such-container'], /no such container/],
    [['exec', 'no-such-container', 'true'], /no such container/],
    [['inspect', 'no-such-container'], /no such container/],
  ])('corral %j', async (args, message) => {
    const before = stateDirs();
    const r = await corral(args);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(stateDirs()).toEqual(before);
  });

  it('refuses a name in use', async () => {
    const name = uniqueName('dup');
    await corral(['create', '--name', name, 'busybox']);
    try {
      const before = stateDirs();
      const r = await corral(['create', '--name', name, 'busybox']);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`name "${name}" is already in use`));
      expect(stateDirs()).toEqual(before);
    } finally {
      await corral(['rm', name]);
    }
  });

  it('says in one line that it needs root', async () => {
    const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'ps'], { env: envOf(installation()), reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/^corral: .*root/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
