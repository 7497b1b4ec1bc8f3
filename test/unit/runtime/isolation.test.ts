import { describe, expect, it } from 'vitest';
import { parseStatusIsolation } from '../../../src/runtime/lifecycle/isolation.js';

describe('inspect isolation: /proc/PID/status', () => {
  it('reads the seccomp mode, filter count and no_new_privs', () => {
    const status = 'Name:\tsleep\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\nSpeculation_Store_Bypass:\tthread vulnerable\n';
    expect(parseStatusIsolation(status)).toEqual({ mode: 2, filters: 1, noNewPrivs: true });
    expect(parseStatusIsolation('NoNewPrivs:\t0\nSeccomp:\t0\n')).toEqual({ mode: 0, filters: 0, noNewPrivs: false });
  });
});
