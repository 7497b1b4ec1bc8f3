import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { peerAllowed } from '../../src/daemon/peer.js';
import { groupId } from '../../src/system/groups.js';

describe('peerAllowed', () => {
  const groups = (pid: number) => (pid === 7 ? [100, 2000] : []);
  it('lets root in, and nobody else without an admin group', () => {
    expect(peerAllowed({ pid: 1, uid: 0, gid: 0 }, undefined, groups)).toBe(true);
    expect(peerAllowed({ pid: 7, uid: 1000, gid: 1000 }, undefined, groups)).toBe(false);
    expect(peerAllowed(undefined, 2000, groups)).toBe(false);
  });
  it('lets members of the admin group in, by primary or supplementary gid', () => {
    expect(peerAllowed({ pid: 7, uid: 1000, gid: 1000 }, 2000, groups)).toBe(true);
    expect(peerAllowed({ pid: 8, uid: 1000, gid: 2000 }, 2000, groups)).toBe(true);
    expect(peerAllowed({ pid: 8, uid: 1000, gid: 1000 }, 2000, groups)).toBe(false);
  });
});

describe('groupId', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-group-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'group');
  writeFileSync(file, 'root:x:0:\ncorral:x:998:alice\n');
  it('reads names and numbers', async () => {
    expect(await groupId('corral', file)).toBe(998);
    expect(await groupId('42', file)).toBe(42);
    await expect(groupId('nope', file)).rejects.toThrow(/--group nope: no such group.*groupadd nope/);
  });
});
