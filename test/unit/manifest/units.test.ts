import { describe, expect, it } from 'vitest';
import { checkManifest, formatIssue, parseManifest } from '../../../src/manifest/index.js';
import { limitsFromFlags } from '../../../src/runtime/limits.js';
import { parseDockerBytes, parseDockerCpus } from '../../../src/util/quantity.js';

const limitsOf = (limits: string) => parseManifest(`containers:\n  web:\n    template: busybox\n    limits: ${limits}\n`, 'm.yaml').containers[0]!.request.limits;
const errorsOf = (limits: string) => checkManifest(`containers:\n  web:\n    template: busybox\n    limits: ${limits}\n`, 'm.yaml').errors.map(formatIssue);
const warningsOf = (limits: string) => checkManifest(`containers:\n  web:\n    template: busybox\n    limits: ${limits}\n`, 'm.yaml').warnings.map(formatIssue);

describe('memory: Kubernetes quantities, exactly', () => {
  it.each([
    ['256Mi', '268435456'],
    ['256M', '256000000'],
    ['1Gi', '1073741824'],
    ['1G', '1000000000'],
    ['1.5Gi', '1610612736'],
    ['268435456', '268435456'],
    ['1e9', '1000000000'],
    ['"1e9"', '1000000000'],
    ['6Mi', '6291456'],
    ['0.5Gi', '536870912'],
    ['7000k', '7000000'],
    ['8000Ki', '8192000'],
  ])('%s → %s bytes', (written, bytes) => {
    expect(limitsOf(`{memory: ${written}}`)).toEqual({ memory: bytes });
  });

  it('256M and 256Mi differ, and 256M draws a warning', () => {
    expect(Number(limitsOf('{memory: 256Mi}')!.memory) - Number(limitsOf('{memory: 256M}')!.memory)).toBe(12_435_456);
    expect(warningsOf('{memory: 256M}')).toEqual(['m.yaml:4:22: warning: containers.web.limits.memory: 256M is 256,000,000 bytes (244.14 MiB), not 256 MiB; did you mean 256Mi?']);
    expect(warningsOf('{memory: 256Mi}')).toEqual([]);
  });

  it('500m is half a byte: refused, with the likely meaning', () => {
    expect(errorsOf('{memory: 500m}')).toEqual(['m.yaml:4:22: containers.web.limits.memory: invalid memory "500m": that is 0.5 bytes (m means milli); did you mean 500Mi?']);
  });

  it('Docker spellings are refused with the Kubernetes one', () => {
    expect(errorsOf('{memory: 1g}')).toEqual(['m.yaml:4:22: containers.web.limits.memory: invalid memory "1g": not a Kubernetes quantity (units: Ki Mi Gi Ti, or k M G T for powers of 10); did you mean 1Gi?']);
    expect(errorsOf('{memory: 512MB}')[0]).toMatch(/did you mean 512Mi\?$/);
    expect(errorsOf('{memory: 512MiB}')[0]).toMatch(/did you mean 512Mi\?$/);
  });

  it('below 6Mi, fractions of a byte, negatives and garbage', () => {
    expect(errorsOf('{memory: 256}')).toEqual(['m.yaml:4:22: containers.web.limits.memory: invalid memory "256": that is 256 bytes; at least 6Mi (6291456 bytes); did you mean 256Mi?']);
    expect(errorsOf('{memory: 1e3}')).toEqual(['m.yaml:4:22: containers.web.limits.memory: invalid memory "1e3": that is 1000 bytes; at least 6Mi (6291456 bytes)']);
    expect(errorsOf('{memory: 1.5}')[0]).toContain('that is 1.5 bytes, not a whole number');
    expect(errorsOf('{memory: -1Gi}')[0]).toContain('must not be negative');
    expect(errorsOf('{memory: lots}')[0]).toContain('use bytes as a Kubernetes quantity');
    expect(errorsOf('{memoryReservation: 1Ki}')[0]).toContain('containers.web.limits.memoryReservation: invalid memoryReservation "1Ki"');
  });

  it('swap is memory plus swap, or unlimited', () => {
    expect(limitsOf('{memory: 256Mi, swap: 512Mi}')).toEqual({ memory: '268435456', memorySwap: '536870912' });
    expect(limitsOf('{memory: 256Mi, swap: unlimited}')).toEqual({ memory: '268435456', memorySwap: '-1' });
  });
});

describe('cpu: cores or millicores', () => {
  it.each([
    ['500m', '0.5'],
    ['0.5', '0.5'],
    ['100m', '0.1'],
    ['0.1', '0.1'],
    ['"0.1"', '0.1'],
    ['1', '1'],
    ['2', '2'],
    ['1.5', '1.5'],
    ['1500m', '1.5'],
    ['10m', '0.01'],
    ['1e0', '1'],
    ['0.125', '0.125'],
    ['2.0', '2'],
  ])('%s → --cpus %s', (written, cpus) => {
    expect(limitsOf(`{cpu: ${written}}`)).toEqual({ cpus });
  });

  it('refuses what the kernel cannot do or what is not CPU', () => {
    expect(errorsOf('{cpu: 5m}')).toEqual(['m.yaml:4:19: containers.web.limits.cpu: invalid cpu "5m": at least 10m (0.01 CPU), the kernel\'s smallest quota']);
    expect(errorsOf('{cpu: 0.0005}')).toEqual(['m.yaml:4:19: containers.web.limits.cpu: invalid cpu "0.0005": finer than 1m (a thousandth of a CPU)']);
    expect(errorsOf('{cpu: 0}')[0]).toContain('at least 10m');
    expect(errorsOf('{cpu: 1Gi}')[0]).toContain('not a Gi suffix');
    expect(errorsOf('{cpu: -1}')[0]).toContain('must not be negative');
    expect(errorsOf('{cpu: 100000}')[0]).toContain('at most 8192 CPUs');
  });

  it('warns about a bare large number', () => {
    expect(warningsOf('{cpu: 500}')).toEqual(['m.yaml:4:19: warning: containers.web.limits.cpu: 500 is 500 CPUs; did you mean 500m (0.5 CPU)?']);
  });
});

describe('other limits', () => {
  it('pids, cpuset, weights, devices and the oom score', () => {
    expect(limitsOf('{pids: 100, cpuset: {cpus: 0-1, mems: 0}, cpuWeight: 200, io: {weight: 300}}')).toEqual({ pidsLimit: '100', cpusetCpus: '0-1', cpusetMems: '0', cpuWeight: 200, blkioWeight: 300 });
    expect(limitsOf('{pids: unlimited}')).toEqual({ pidsLimit: '-1' });
    expect(limitsOf('{io: {devices: [{path: /dev/vda, readBps: 10Mi, writeBps: 1M, readIops: 100, writeIops: 50}]}}')).toEqual({
      deviceReadBps: ['/dev/vda:10485760'],
      deviceWriteBps: ['/dev/vda:1000000'],
      deviceReadIops: ['/dev/vda:100'],
      deviceWriteIops: ['/dev/vda:50'],
    });
    expect(errorsOf('{cpuset: {cpus: 3-1}}')).toEqual(['m.yaml:4:29: containers.web.limits.cpuset.cpus: invalid list "3-1": expected kernel list syntax like 0-1 or 0,2']);
    const oom = parseManifest('containers:\n  web: {template: busybox, oomScoreAdj: -500}\n', 'm.yaml');
    expect(oom.containers[0]!.request.limits).toEqual({ oomScoreAdj: -500 });
  });

  it('durations', () => {
    const hc = (h: string) => parseManifest(`containers:\n  web: {template: busybox, healthcheck: ${h}}\n`, 'm.yaml').containers[0]!.healthcheck;
    expect(hc('{test: "true", interval: 1m30s, timeout: 500ms, startPeriod: 1.5s, retries: 5, onFailure: restart}')).toEqual({
      test: ['sh', '-c', 'true'],
      intervalMs: 90_000,
      timeoutMs: 500,
      retries: 5,
      startPeriodMs: 1500,
      onFailure: 'restart',
    });
    const bad = checkManifest('containers:\n  web: {template: busybox, healthcheck: {test: "true", interval: 30}}\n', 'm.yaml').errors.map(formatIssue);
    expect(bad).toEqual(['m.yaml:2:66: containers.web.healthcheck.interval: expected a duration like 30s, 1m30s or 500ms, got 30; add a unit: 30s']);
    const unit = checkManifest('containers:\n  web: {template: busybox, healthcheck: {test: "true", interval: "30"}}\n', 'm.yaml').errors.map(formatIssue);
    expect(unit).toEqual(['m.yaml:2:66: containers.web.healthcheck.interval: invalid duration "30": expected a number and a unit (ms, s, m, h), e.g. 30s or 1m30s; add a unit: 30s']);
  });
});

describe('the conversions are what corrald accepts', () => {
  it('plain byte counts and decimal CPUs parse back to the same kernel values', async () => {
    const limits = limitsOf('{cpu: 500m, memory: 256Mi, memoryReservation: 128M, swap: 1Gi, pids: 64, cpuWeight: 300}')!;
    expect(parseDockerBytes(limits.memory!, '--memory')).toBe(268435456);
    expect(parseDockerCpus(limits.cpus!)).toBe(0.5);
    const { oomScoreAdj: _, ...flags } = limits;
    const k = await limitsFromFlags(flags, { cpus: 4, mems: '0' });
    expect(k.cpu).toMatchObject({ quotaUs: 50000, periodUs: 100000, weight: 300 });
    expect(k.memory).toEqual({ max: 268435456, low: 128_000_000, swap: 1073741824 });
    expect(k.pids).toEqual({ max: 64 });
  });
});
