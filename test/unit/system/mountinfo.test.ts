import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../../src/system/mountinfo.js';

describe('parseMountinfo', () => {
  const text = [
    '73 107 0:42 /proc/meminfo /proc/meminfo ro,nosuid,nodev,relatime - fuse.lxcfs lxcfs rw,user_id=0,group_id=0,allow_other',
    '48 26 0:42 / /run/corral/lxcfs rw,nosuid,nodev,relatime shared:1 master:2 - fuse.lxcfs lxcfs rw,allow_other',
    '50 26 0:43 / /mnt/with\\040space rw - tmpfs tmpfs rw',
    'garbage',
    '',
  ].join('\n');

  it('reads dev, root, mount point and type, with optional fields and escapes', () => {
    expect(parseMountinfo(text)).toEqual([
      { dev: '0:42', root: '/proc/meminfo', mountPoint: '/proc/meminfo', fsType: 'fuse.lxcfs' },
      { dev: '0:42', root: '/', mountPoint: '/run/corral/lxcfs', fsType: 'fuse.lxcfs' },
      { dev: '0:43', root: '/', mountPoint: '/mnt/with space', fsType: 'tmpfs' },
    ]);
  });
});
