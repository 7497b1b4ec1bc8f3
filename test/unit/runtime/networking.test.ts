import { describe, expect, it } from 'vitest';
import { pickPort } from '../../../src/runtime/networking/index.js';

describe('pickPort (-P)', () => {
  it('starts at a random port of the range and skips taken ones, wrapping around', () => {
    expect(pickPort(40000, 40009, () => false, () => 0.5)).toBe(40005);
    expect(pickPort(40000, 40009, (p) => p >= 40005, () => 0.5)).toBe(40000);
    expect(pickPort(40000, 40009, (p) => p !== 40003, () => 0.9)).toBe(40003);
  });
  it('gives up when every port is taken', () => {
    expect(pickPort(40000, 40002, () => true)).toBeUndefined();
  });
});
