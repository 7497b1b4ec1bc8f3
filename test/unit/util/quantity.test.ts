import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { formatBytes, parseDockerBytes, parseDockerCpus, parseK8sBytes, parseK8sCpu } from '../../../src/util/quantity.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('parseDockerBytes (Docker flags: binary units)', () => {
  it.each([
    ['1024', 1024],
    ['512m', 512 * MiB],
    ['512M', 512 * MiB],
    ['1g', GiB],
    ['1G', GiB],
    ['100k', 100 * 1024],
    ['2t', 2 * 2 ** 40],
    ['10b', 10],
    ['10mb', 10 * MiB],
    ['10MiB', 10 * MiB],
    ['1.5g', 1.5 * GiB],
    ['256Mi', 256 * MiB],
    ['1 g', GiB],
  ])('%s', (text, bytes) => {
    expect(parseDockerBytes(text, '--memory')).toBe(bytes);
  });

  it('takes numbers as bytes', () => {
    expect(parseDockerBytes(1048576, '--memory')).toBe(MiB);
  });

  it('refuses what is not bytes, naming the flag and the format', () => {
    for (const bad of ['', 'abc', '12x', '-1', '1.5', '0.1g', '1e3', '512mm', '1kk']) {
      const err = (() => {
        try {
          parseDockerBytes(bad, '--memory');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, bad).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toMatch(new RegExp(`^invalid --memory ".*": `));
    }
    expect(() => parseDockerBytes('12x', '--memory')).toThrow(
      'invalid --memory "12x": use bytes with an optional unit b, k, m, g, t (binary: 512m = 512 MiB, 1g = 1 GiB)',
    );
    expect(() => parseDockerBytes('1.5', '--memory')).toThrow('invalid --memory "1.5": that is 1.5 bytes, not a whole number');
  });
});

describe('parseDockerCpus', () => {
  it('reads decimal CPUs', () => {
    expect(parseDockerCpus('0.5')).toBe(0.5);
    expect(parseDockerCpus('2')).toBe(2);
    expect(parseDockerCpus('.25')).toBe(0.25);
    expect(parseDockerCpus(1.5)).toBe(1.5);
  });
  it('refuses Kubernetes millicores and garbage, naming the flag', () => {
    expect(() => parseDockerCpus('500m')).toThrow('invalid --cpus "500m": use a decimal number of CPUs, e.g. 0.5 or 2');
    expect(() => parseDockerCpus('-1')).toThrow(ValidationError);
    expect(() => parseDockerCpus('')).toThrow(ValidationError);
  });
});

describe('parseK8sBytes (Kubernetes quantities)', () => {
  it('keeps binary and decimal suffixes apart: 256Mi is not 256M', () => {
    expect(parseK8sBytes('256Mi', 'memory')).toBe(256 * 2 ** 20);
    expect(parseK8sBytes('256M', 'memory')).toBe(256 * 10 ** 6);
    expect(parseK8sBytes('1Gi', 'memory')).toBe(GiB);
    expect(parseK8sBytes('1G', 'memory')).toBe(1e9);
    expect(parseK8sBytes('128974848', 'memory')).toBe(128974848);
    expect(parseK8sBytes('129e6', 'memory')).toBe(129e6);
    expect(parseK8sBytes('1e3', 'memory')).toBe(1000);
    expect(parseK8sBytes('1E3', 'memory')).toBe(1000);
    expect(parseK8sBytes('1.5Gi', 'memory')).toBe(1.5 * GiB);
    expect(parseK8sBytes('0.5Gi', 'memory')).toBe(GiB / 2);
    expect(parseK8sBytes('1.1G', 'memory')).toBe(1_100_000_000);
    expect(parseK8sBytes('1k', 'memory')).toBe(1000);
    expect(parseK8sBytes('1Ki', 'memory')).toBe(1024);
  });

  it('refuses 500m for memory: half a byte, and says what was probably meant', () => {
    expect(() => parseK8sBytes('500m', 'resources.limits.memory')).toThrow(
      'invalid resources.limits.memory "500m": that is 0.5 bytes (m means milli); did you mean 500Mi?',
    );
    expect(() => parseK8sBytes('512m', 'memory')).toThrow(/did you mean 512Mi\?/);
  });

  it('refuses fractions of a byte, negatives and garbage', () => {
    expect(() => parseK8sBytes('0.1Gi', 'memory')).toThrow('invalid memory "0.1Gi": that is 107374182.4 bytes, not a whole number');
    expect(() => parseK8sBytes('0.5', 'memory')).toThrow(/0\.5 bytes, not a whole number/);
    expect(() => parseK8sBytes('-1Gi', 'memory')).toThrow('invalid memory "-1Gi": must not be negative');
    expect(() => parseK8sBytes('1gi', 'memory')).toThrow(/use bytes as a Kubernetes quantity: 256Mi = 256·2\^20, 256M = 256·10\^6/);
    expect(() => parseK8sBytes('12x', 'memory')).toThrow(ValidationError);
  });
});

describe('parseK8sCpu', () => {
  it('reads cores and millicores', () => {
    expect(parseK8sCpu('500m', 'cpu')).toBe(0.5);
    expect(parseK8sCpu('250m', 'cpu')).toBe(0.25);
    expect(parseK8sCpu('2', 'cpu')).toBe(2);
    expect(parseK8sCpu('0.5', 'cpu')).toBe(0.5);
    expect(parseK8sCpu('1e0', 'cpu')).toBe(1);
    expect(parseK8sCpu(1, 'cpu')).toBe(1);
  });
  it('refuses memory-style suffixes on CPU, with a hint for M', () => {
    expect(() => parseK8sCpu('500M', 'resources.limits.cpu')).toThrow(
      'invalid resources.limits.cpu "500M": CPU takes cores (2, 0.5) or millicores (500m), not a M suffix; did you mean 500m (millicores)?',
    );
    expect(() => parseK8sCpu('1Gi', 'cpu')).toThrow(ValidationError);
    expect(() => parseK8sCpu('-1', 'cpu')).toThrow('must not be negative');
  });
});

describe('formatBytes', () => {
  it('uses exact binary units only', () => {
    expect(formatBytes(512 * MiB)).toBe('512 MiB');
    expect(formatBytes(6 * MiB)).toBe('6 MiB');
    expect(formatBytes(1_500_000)).toBe('1500000 B');
    expect(formatBytes(1536)).toBe('1536 B');
    expect(formatBytes(GiB)).toBe('1 GiB');
  });
});
