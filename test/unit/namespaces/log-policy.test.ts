import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_POLICY, logPolicy } from '../../../src/namespaces/log-policy.js';

describe('logPolicy', () => {
  it('defaults to json-file-like 20 MiB × 5 files', () => {
    expect(logPolicy({})).toEqual({ maxSize: 20 * 1024 * 1024, maxFiles: 5 });
    expect(DEFAULT_LOG_POLICY).toEqual(logPolicy({}));
  });
  it('takes CORRAL_LOG_MAX_SIZE (Docker units) and CORRAL_LOG_MAX_FILES', () => {
    expect(logPolicy({ CORRAL_LOG_MAX_SIZE: '64k', CORRAL_LOG_MAX_FILES: '3' })).toEqual({ maxSize: 65536, maxFiles: 3 });
    expect(logPolicy({ CORRAL_LOG_MAX_SIZE: '1000' })).toEqual({ maxSize: 1000, maxFiles: 5 });
  });
  it('refuses what the monitor would', () => {
    expect(() => logPolicy({ CORRAL_LOG_MAX_SIZE: 'lots' })).toThrow(/CORRAL_LOG_MAX_SIZE/);
    expect(() => logPolicy({ CORRAL_LOG_MAX_SIZE: '0' })).toThrow(/CORRAL_LOG_MAX_SIZE/);
    for (const bad of ['0', '-1', '1.5', 'x', '1001']) expect(() => logPolicy({ CORRAL_LOG_MAX_FILES: bad })).toThrow(/CORRAL_LOG_MAX_FILES/);
  });
});
