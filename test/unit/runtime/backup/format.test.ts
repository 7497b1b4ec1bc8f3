import { describe, expect, it } from 'vitest';
import { memberMismatch, parseHeader, parseManifest } from '../../../../src/runtime/backup/format.js';
import { requestFromConfig } from '../../../../src/runtime/backup/request.js';
import { configFromRequest } from '../../../../src/runtime/spec.js';

const ID = 'a'.repeat(32);
const header = (over: Record<string, unknown> = {}) => ({
  format: 'corral-backup',
  version: 1,
  backupId: ID,
  kind: 'full',
  base: null,
  createdAt: '2026-12-03T20:00:00.000Z',
  container: { id: 'f'.repeat(64), name: 'web', userns: 'private', request: { template: 'busybox', name: 'web' } },
  template: { name: 'busybox', digest: `sha256:${'0'.repeat(64)}`, included: false, layers: 0 },
  ...over,
});
const buf = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const manifest = (over: Record<string, unknown> = {}) => ({
  format: 'corral-backup',
  version: 1,
  backupId: ID,
  members: [{ name: 'upper', type: 'directory', size: 0, mode: 0o755, uid: 0, gid: 0 }, { name: 'upper/f', type: 'file', size: 3, mode: 0o644, uid: 0, gid: 0, sha256: 'b'.repeat(64) }],
  deletions: [],
  state: { '': 'd:755:0:0:' },
  warnings: [],
  ...over,
});

describe('backup header', () => {
  it('parses a valid header', () => {
    expect(parseHeader(buf(header()))).toMatchObject({ backupId: ID, kind: 'full', container: { name: 'web', userns: 'private' }, template: { name: 'busybox' } });
  });

  it.each([
    ['not JSON', Buffer.from('{'), /header: not valid JSON/],
    ['another format', buf(header({ format: 'tar' })), /not a Corral backup/],
    ['a newer version', buf(header({ version: 2 })), /written by a newer Corral \(format version 2; this one reads up to 1\)/],
    ['a bad id', buf(header({ backupId: '../x' })), /backupId: "..\/x" is not 32 hex digits/],
    ['an incremental without base', buf(header({ kind: 'incremental' })), /an incremental backup names the backup it applies on/],
    ['a full one with a base', buf(header({ base: ID })), /a full backup has no base/],
    ['a bad container name', buf(header({ container: { id: 'x', name: '../etc', userns: 'private', request: {} } })), /invalid name "..\/etc"/],
    ['a bad userns', buf(header({ container: { id: 'x', name: 'web', userns: 'other', request: {} } })), /userns: expected "private" or "host"/],
    ['a bad digest', buf(header({ template: { name: 'busybox', digest: 'md5:1', included: false, layers: 0 } })), /is not sha256:<64 hex digits>/],
    ['an included template without layers', buf(header({ template: { name: 'busybox', digest: `sha256:${'0'.repeat(64)}`, included: true, layers: 0 } })), /included, with no layers/],
    ['a request naming another template', buf(header({ container: { id: 'x', name: 'web', userns: 'host', request: { template: 'debian' } } })), /names template "debian", the header "busybox"/],
  ])('refuses %s', (_what, text, pattern) => {
    expect(() => parseHeader(text)).toThrow(pattern);
  });
});

describe('backup manifest', () => {
  it('parses a valid manifest', () => {
    const m = parseManifest(buf(manifest()));
    expect(m.members).toHaveLength(2);
    expect(m.members[1]!.sha256).toBe('b'.repeat(64));
  });

  it.each([
    ['a file without sha256', { members: [{ name: 'upper/f', type: 'file', size: 1, mode: 0o644, uid: 0, gid: 0 }] }, /member 0 sha256: expected a string/],
    ['a directory with content', { members: [{ name: 'upper', type: 'directory', size: 0, mode: 0o755, uid: 0, gid: 0, sha256: 'b'.repeat(64) }] }, /a directory has no content/],
    ['an unknown type', { members: [{ name: 'upper/sda', type: 'block', size: 0, mode: 0o600, uid: 0, gid: 0 }] }, /"block" is not one of/],
    ['a mode out of range', { members: [{ name: 'upper', type: 'directory', size: 0, mode: 0o170000, uid: 0, gid: 0 }] }, /mode: expected a whole number from 0 to 4095/],
    ['a negative uid', { members: [{ name: 'upper', type: 'directory', size: 0, mode: 0o755, uid: -1, gid: 0 }] }, /uid: expected a whole number/],
    ['a symlink without target', { members: [{ name: 'upper/l', type: 'symlink', size: 0, mode: 0o777, uid: 0, gid: 0 }] }, /link: expected a string/],
    ['non-base64 xattrs', { members: [{ name: 'upper', type: 'directory', size: 0, mode: 0o755, uid: 0, gid: 0, xattrs: { a: '%%' } }] }, /expected base64/],
    ['deletions that are not paths', { deletions: [1] }, /deletions: expected a list of paths/],
    ['a state value that is not a string', { state: { a: 1 } }, /state: "a": expected a string/],
  ])('refuses %s', (_what, over, pattern) => {
    expect(() => parseManifest(buf(manifest(over)))).toThrow(pattern);
  });

  it('compares a member read with its record', () => {
    const want = { name: 'upper/f', type: 'file' as const, size: 3, mode: 0o644, uid: 0, gid: 0, sha256: 'b'.repeat(64) };
    expect(memberMismatch(want, { ...want })).toBeNull();
    expect(memberMismatch(want, { ...want, sha256: 'c'.repeat(64) })).toMatch(/^sha256 is "c+", the manifest says "b+"$/);
    expect(memberMismatch(want, { ...want, uid: 5 })).toMatch(/^uid is 5/);
    expect(memberMismatch(want, { ...want, xattrs: { 'security.capability': 'AA==' } })).toMatch(/extended attributes differ/);
  });
});

describe('requestFromConfig', () => {
  it('gives back the same config through create\'s validation (but id, time and range)', () => {
    const original = configFromRequest(
      {
        name: 'web',
        template: 'busybox',
        command: ['httpd', '-f'],
        env: ['A=1'],
        hostname: 'h1',
        capDrop: ['NET_RAW'],
        capAdd: ['SYS_TIME'],
        labels: { tier: 'web' },
        limits: { memory: '64m', pidsLimit: 50 },
        restart: 'on-failure:3',
        healthcheck: { test: 'true', interval: '1500ms', retries: 2 },
        publish: ['127.0.0.1:8080:80/tcp', '5353:53/udp'],
        expose: ['9000'],
        dns: ['1.1.1.1'],
        networkAliases: ['www'],
        securityOpt: ['seccomp=unconfined'],
        tty: true,
      },
      ['PATH=/bin'],
      ['sh'],
    );
    const again = configFromRequest(requestFromConfig(original), ['PATH=/bin'], ['sh']);
    const strip = (c: any): any => ({ ...c, id: undefined, createdAt: undefined });
    expect(strip(again)).toEqual(strip(original));
  });
});
