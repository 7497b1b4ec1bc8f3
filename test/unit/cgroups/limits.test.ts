import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PIDS_LIMIT,
  blkioToIoWeight,
  cpusToQuota,
  ioToBlkioWeight,
  sharesToWeight,
  weightToShares,
} from '../../../src/cgroups/limits.js';

describe('limit conversions', () => {
  it('cpus → CFS quota over a 100 ms period', () => {
    expect(cpusToQuota(0.5)).toEqual({ quotaUs: 50000, periodUs: 100000 });
    expect(cpusToQuota(1.5)).toEqual({ quotaUs: 150000, periodUs: 100000 });
    expect(cpusToQuota(0.01)).toEqual({ quotaUs: 1000, periodUs: 100000 });
  });

  it('cpu-shares → cpu.weight linearly, as runc and crun do', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(512)).toBe(20);
    expect(sharesToWeight(262144)).toBe(10000);
    // Clamped like the kernel clamps cpu.shares.
    expect(sharesToWeight(1)).toBe(1);
    expect(sharesToWeight(1_000_000)).toBe(10000);
  });

  it('weight → shares is an inverse: every weight survives the round trip', () => {
    for (let w = 1; w <= 10000; w++) expect(sharesToWeight(weightToShares(w))).toBe(w);
    expect(weightToShares(1)).toBe(2);
    expect(weightToShares(10000)).toBe(262144);
  });

  it('blkio-weight → io.weight as crun does, and back', () => {
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(500)).toBe(4950);
    expect(blkioToIoWeight(1000)).toBe(10000);
    for (let b = 10; b <= 1000; b++) expect(ioToBlkioWeight(blkioToIoWeight(b))).toBe(b);
    expect(ioToBlkioWeight(100)).toBe(20);
  });

  it('has a pids default that stops fork bombs yet fits real workloads', () => {
    expect(DEFAULT_PIDS_LIMIT).toBe(4096);
  });
});
