import { describe, expect, it } from 'vitest';
import { configFromRequest } from '../../../src/runtime/spec.js';

const env = ['PATH=/bin'];
const image = { entrypoint: ['/entry.sh'], workdir: '/srv/app', user: '1000:1000' };

describe('template entrypoint, workdir and user (Docker semantics)', () => {
  it('runs entrypoint + the template command by default', () => {
    const c = configFromRequest({ template: 'img' }, env, ['serve'], image);
    expect(c.command).toEqual(['/entry.sh', 'serve']);
    expect(c.workdir).toBe('/srv/app');
    expect(c.user).toBe('1000:1000');
  });

  it('a given command replaces the template command, not the entrypoint', () => {
    expect(configFromRequest({ template: 'img', command: ['debug'] }, env, ['serve'], image).command).toEqual(['/entry.sh', 'debug']);
  });

  it('--entrypoint replaces the entrypoint and drops the template command', () => {
    expect(configFromRequest({ template: 'img', entrypoint: ['/bin/sh'] }, env, ['serve'], image).command).toEqual(['/bin/sh']);
    expect(configFromRequest({ template: 'img', entrypoint: ['/bin/echo'], command: ['hi'] }, env, ['serve'], image).command).toEqual(['/bin/echo', 'hi']);
  });

  it('--entrypoint "" clears it; with no command that is an error', () => {
    expect(configFromRequest({ template: 'img', entrypoint: [], command: ['ls'] }, env, ['serve'], image).command).toEqual(['ls']);
    expect(() => configFromRequest({ template: 'img', entrypoint: [] }, env, ['serve'], image)).toThrow(/none given, and the template has no default command or entrypoint/);
  });

  it('-w and -u still win over the template', () => {
    const c = configFromRequest({ template: 'img', workdir: '/tmp', user: 'root' }, env, ['serve'], image);
    expect([c.workdir, c.user]).toEqual(['/tmp', 'root']);
  });

  it('templates without these defaults behave as before', () => {
    const c = configFromRequest({ template: 'busybox' }, env, ['sh']);
    expect([c.command, c.workdir, c.user]).toEqual([['sh'], '/', '0:0']);
  });
});
