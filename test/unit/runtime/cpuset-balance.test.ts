import { describe, expect, it } from 'vitest';
import { balancedCpuset, countCpuPins, limitsFromFlags } from '../../../src/runtime/limits.js';

describe('balancedCpuset', () => {
  it('takes ⌈N⌉ CPUs, the least pinned first, the lowest id on a tie', () => {
    expect(balancedCpuset(0.5, [0, 0], 2)).toBe('0');
    expect(balancedCpuset(0.5, [1, 0], 2)).toBe('1');
    expect(balancedCpuset(1, [2, 1], 2)).toBe('1');
    expect(balancedCpuset(1.5, [5, 5], 2)).toBe('0-1');
    expect(balancedCpuset(2, [0, 3, 1, 0], 4)).toBe('0,3');
    expect(balancedCpuset(3, [0, 3, 0, 0], 4)).toBe('0,2-3');
  });

  it('never asks for more CPUs than the host has, nor fewer than one', () => {
    expect(balancedCpuset(8, [], 2)).toBe('0-1');
    expect(balancedCpuset(0.01, [], 2)).toBe('0');
    // 1.0000000001 from a float is 1 CPU, not 2.
    expect(balancedCpuset(0.1 + 0.9, [0, 0], 2)).toBe('0');
  });

  it('spreads containers over the host as they are created', () => {
    const sets: string[] = [];
    for (let i = 0; i < 4; i++) sets.push(balancedCpuset(0.5, countCpuPins(sets, 2), 2));
    expect(sets).toEqual(['0', '1', '0', '1']);
  });
});

describe('countCpuPins', () => {
  it('counts each container once per CPU of its cpuset; unpinned ones count nowhere', () => {
    expect(countCpuPins(['0', '0-1', undefined, '1,3', 'garbage'], 4)).toEqual([2, 2, 0, 1]);
    expect(countCpuPins(['0-7'], 2)).toEqual([1, 1]);
  });
});

describe('limitsFromFlags with the pins of other containers', () => {
  const host = { cpus: 2, mems: '0' };

  it('pins --cpus 0.5 to the least used CPU and says where the cpuset came from', async () => {
    const l = await limitsFromFlags({ cpus: '0.5' }, host, { cpuPins: [1, 0] });
    expect(l.cpuset).toEqual({ cpus: '1' });
    expect(l.cpu).toEqual({ quotaUs: 50000, periodUs: 100000 });
    expect(l.requested?.['cpuset-cpus']).toBe('from --cpus 0.5');
  });

  it('leaves --cpuset-cpus as given', async () => {
    const l = await limitsFromFlags({ cpus: '0.5', cpusetCpus: '1' }, host, { cpuPins: [0, 9] });
    expect(l.cpuset).toEqual({ cpus: '1' });
    expect(l.requested?.['cpuset-cpus']).toBe('--cpuset-cpus 1');
  });

  it('pins nothing without --cpus, or where pins are not given (no cpuset controller)', async () => {
    expect((await limitsFromFlags({ memory: '64m' }, host, { cpuPins: [0, 0] })).cpuset).toBeUndefined();
    expect((await limitsFromFlags({ cpus: '1' }, host)).cpuset).toBeUndefined();
  });
});
