import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderHosts, renderResolvConf, writeInPlace } from '../../../src/runtime/etc-files.js';

describe('renderHosts', () => {
  it('loopback-only: the hostname on 127.0.1.1', () => {
    expect(renderHosts({ hostname: 'box', self: null, peers: [] })).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tbox\n');
  });

  it('on networks: its own address with hostname, name and aliases, then the peers', () => {
    const text = renderHosts({ hostname: 'web', self: { ip: '10.88.0.2', names: ['web', 'www'] }, peers: [{ ip: '10.88.0.3', names: ['db', 'db'] }, { ip: '10.89.0.4', names: ['cache'] }] });
    expect(text.split('\n')).toEqual([
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      '10.88.0.2\tweb www',
      '# containers on the same networks (kept current by corrald)',
      '10.88.0.3\tdb',
      '10.89.0.4\tcache',
      '',
    ]);
  });

  it("host mode: the host's file, with the hostname added when it is missing", () => {
    expect(renderHosts({ hostname: 'box', self: null, peers: [], host: '127.0.0.1 localhost\n' })).toBe('127.0.0.1 localhost\n127.0.1.1\tbox\n');
    expect(renderHosts({ hostname: 'box', self: null, peers: [], host: '127.0.0.1 localhost box\n' })).toBe('127.0.0.1 localhost box\n');
  });
});

describe('renderResolvConf', () => {
  const host = 'search example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver ::1\noptions edns0\n';
  it('drops loopback resolvers, keeps the rest', () => {
    expect(renderResolvConf(host)).toBe('search example.org\nnameserver 192.0.2.1\noptions edns0\n');
  });
  it('keeps them in host mode', () => {
    expect(renderResolvConf(host, { keepLoopback: true })).toBe(host);
  });
  it('--dns replaces every nameserver, keeping search and options', () => {
    expect(renderResolvConf(host, { dns: ['192.0.2.53'] })).toBe('search example.org\noptions edns0\nnameserver 192.0.2.53\n');
  });
});

describe('writeInPlace', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'corral-etc-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the inode (a bind mount of the file sees the change), shrinking and growing', async () => {
    const f = join(dir, 'hosts');
    writeFileSync(f, 'a much longer first version of the file\n');
    const ino = statSync(f).ino;
    expect(await writeInPlace(f, 'short\n')).toBe(true);
    expect(readFileSync(f, 'utf8')).toBe('short\n');
    expect(await writeInPlace(f, 'longer than short, again\n')).toBe(true);
    expect(readFileSync(f, 'utf8')).toBe('longer than short, again\n');
    expect(statSync(f).ino).toBe(ino);
    expect(await writeInPlace(f, 'longer than short, again\n')).toBe(false);
  });

  it('creates a missing file', async () => {
    expect(await writeInPlace(join(dir, 'new'), 'x\n')).toBe(true);
    expect(readFileSync(join(dir, 'new'), 'utf8')).toBe('x\n');
  });
});
