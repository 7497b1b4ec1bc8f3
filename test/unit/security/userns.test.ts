import { describe, expect, it } from 'vitest';
import { hostRootIds, hostUid } from '../../../src/security/userns.js';

describe('a container\'s host ids', () => {
  const own = { mode: 'private' as const, uidBase: 1_065_536, gidBase: 1_131_072, size: 65_536 };
  it('root is the base of its range, or host root with --userns host', () => {
    expect(hostRootIds({ userns: own })).toEqual({ uid: 1_065_536, gid: 1_131_072 });
    expect(hostRootIds({ userns: { mode: 'host' } })).toEqual({ uid: 0, gid: 0 });
  });
  it('maps a container uid inside the range, and nothing outside it', () => {
    expect(hostUid(own, 1000)).toBe(1_066_536);
    expect(hostUid(own, 65_536)).toBeUndefined();
    expect(hostUid({ mode: 'host' }, 1000)).toBe(1000);
  });
});
