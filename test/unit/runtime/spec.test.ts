import { describe, expect, it } from 'vitest';
import { configFromRequest, mergeEnv, validateUser } from '../../../src/runtime/spec.js';
import { DEFAULT_CAPABILITIES, resolveCapabilities } from '../../../src/security/capabilities.js';

describe('configFromRequest', () => {
  it('fills Docker-like defaults', () => {
    const c = configFromRequest({ template: 'busybox', name: 'web' });
    expect(c).toMatchObject({ name: 'web', hostname: 'web', command: ['sh'], workdir: '/', user: '0:0', readOnly: false, init: false });
    expect(c.id).toMatch(/^[0-9a-f]{64}$/);
    expect(c.capabilities).toEqual(expect.arrayContaining(DEFAULT_CAPABILITIES));
    expect(c.capabilities).toHaveLength(14);
    expect(c.env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });

  it('generates a name when none is given', () => {
    expect(configFromRequest({ template: 'busybox' }).name).toMatch(/^[a-z]+_[a-z]+_[0-9a-f]{4}$/);
  });

  it.each([
    [{ template: 'busybox', name: '-bad' }, /invalid container name/],
    [{ template: 'busybox', name: 'a'.repeat(64) }, /invalid container name/],
    [{ template: 'busybox', name: 'a/b' }, /invalid container name/],
    [{ template: '../etc' }, /invalid template name/],
    [{ template: 'busybox', command: 'ls' }, /command: expected a list/],
    [{ template: 'busybox', env: ['NOEQUALS'] }, /expected KEY=VALUE/],
    [{ template: 'busybox', workdir: 'relative' }, /absolute path/],
    [{ template: 'busybox', workdir: '/a/../b' }, /must not contain/],
    [{ template: 'busybox', user: 'root;rm' }, /expected uid\[:gid\]/],
    [{ template: 'busybox', hostname: 'bad_host!' }, /hostname/],
    [{ template: 'busybox', volumes: [{ source: '/definitely/not/here', target: '/data' }] }, /no such file or directory on the host/],
    [{ template: 'busybox', volumes: [{ source: 'rel', target: '/data' }] }, /absolute host path/],
    [{ template: 'busybox', volumes: [{ source: '/tmp', target: '/proc/x' }] }, /managed by corral/],
    [{ template: 'busybox', volumes: [{ source: '/tmp', target: '/' }] }, /root filesystem/],
    [{ template: 'busybox', capAdd: ['NOT_A_CAP'] }, /unknown capability/],
    [{ template: 'busybox', tty: 'yes' }, /tty: expected true or false/],
    [{ template: 'busybox', bogus: 1 }, /unknown field "bogus"/],
    [null, /expected an object/],
  ])('refuses %j', (req, message) => {
    expect(() => configFromRequest(req)).toThrow(message);
  });

  it('adds TERM for a tty', () => {
    expect(configFromRequest({ template: 'busybox', tty: true }).env).toContain('TERM=xterm');
  });
});

describe('mergeEnv', () => {
  it('lets later values win, keyed by name', () => {
    expect(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=x=y'])).toEqual(['PATH=/bin', 'A=2', 'B=x=y']);
  });
});

describe('validateUser', () => {
  it.each(['0', '1000:1000', 'nobody', 'corral:users'])('accepts %s', (u) => expect(validateUser(u)).toBe(u));
  it.each(['', 'a:b:c', '99999999999', ':1'])('refuses %j', (u) => expect(() => validateUser(u)).toThrow());
});

describe('resolveCapabilities', () => {
  it('drops and adds like Docker', () => {
    const caps = resolveCapabilities(['sys_admin', 'CAP_NET_ADMIN'], ['MKNOD']);
    expect(caps).toContain('SYS_ADMIN');
    expect(caps).toContain('NET_ADMIN');
    expect(caps).not.toContain('MKNOD');
  });
  it('understands ALL', () => {
    expect(resolveCapabilities([], ['ALL'])).toEqual([]);
    expect(resolveCapabilities(['CHOWN'], ['ALL'])).toEqual(['CHOWN']);
    expect(resolveCapabilities(['ALL'], []).length).toBe(41);
  });
});
