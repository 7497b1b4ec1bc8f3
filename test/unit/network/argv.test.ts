import { describe, expect, it } from 'vitest';
import { nsenterNetArgs, unshareInNetnsArgs } from '../../../src/network/argv.js';

describe('network argv', () => {
  it('joins the prepared namespace with nsenter, then unshares everything but the network', () => {
    expect(nsenterNetArgs('/run/corral/netns/3f9c1d2e4b5a')).toEqual(['nsenter', '--net=/run/corral/netns/3f9c1d2e4b5a', '--']);
    expect(unshareInNetnsArgs('/run/corral/netns/3f9c1d2e4b5a')).toEqual([
      'nsenter',
      '--net=/run/corral/netns/3f9c1d2e4b5a',
      '--',
      'unshare',
      '--mount',
      '--uts',
      '--ipc',
      '--cgroup',
      '--pid',
      '--propagation',
      'private',
      '--',
    ]);
  });

  it('takes program paths and never forks (no --fork, no --pid for nsenter)', () => {
    const a = unshareInNetnsArgs('/n/x', { nsenter: '/usr/bin/nsenter', unshare: '/usr/bin/unshare' });
    expect(a[0]).toBe('/usr/bin/nsenter');
    expect(a[3]).toBe('/usr/bin/unshare');
    expect(a).not.toContain('--fork');
    expect(a).not.toContain('--net');
    expect(a.filter((x) => x.startsWith('--pid'))).toEqual(['--pid']);
  });
});
