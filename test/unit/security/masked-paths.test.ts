import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MASKED_DIRECTORIES, MASKED_FILES, MASKED_PATHS, thermalThrottleDirs } from '../../../src/security/masked-paths.js';

let root = '';
afterEach(() => root && rmSync(root, { recursive: true, force: true }));

describe('masked paths', () => {
  it("Docker's list plus the host-wide ones Corral adds; each path once, absolute", () => {
    for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware', '/sys/devices/virtual/powercap']) expect(MASKED_PATHS).toContain(p);
    expect(MASKED_FILES).toEqual(expect.arrayContaining(['/proc/interrupts', '/sys/kernel/vmcoreinfo', '/proc/slabinfo']));
    expect(MASKED_DIRECTORIES).toEqual(expect.arrayContaining(['/sys/kernel/debug', '/sys/kernel/tracing', '/sys/kernel/security']));
    expect(new Set(MASKED_PATHS).size).toBe(MASKED_PATHS.length);
    for (const p of MASKED_PATHS) expect(p).toMatch(/^\/(proc|sys)\/[a-z0-9_/]+$/);
  });

  it('finds the thermal_throttle directory of each CPU that has one, in CPU order', () => {
    root = mkdtempSync(join(tmpdir(), 'corral-sys-'));
    for (const c of ['cpu0', 'cpu1', 'cpu10', 'cpu2']) mkdirSync(join(root, 'devices/system/cpu', c, 'thermal_throttle'), { recursive: true });
    mkdirSync(join(root, 'devices/system/cpu/cpu3'));
    mkdirSync(join(root, 'devices/system/cpu/cpufreq/thermal_throttle'), { recursive: true });
    expect(thermalThrottleDirs(root)).toEqual(['cpu0', 'cpu1', 'cpu2', 'cpu10'].map((c) => `/sys/devices/system/cpu/${c}/thermal_throttle`));
    expect(thermalThrottleDirs(join(root, 'missing'))).toEqual([]);
  });
});
