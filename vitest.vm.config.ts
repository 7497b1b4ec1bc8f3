import { defineConfig } from 'vitest/config';

// VM tier: cgroup v2 on Debian's stock kernel, inside the qemu VM that `scripts/vm-test` boots
// (this host's cgroups are hybrid v1). Emulated CPUs are ~15x slower and forks ~40x: one forked
// worker runs every file in turn, and what runs here stays small.
if (process.env.CORRAL_VM !== '1') {
  throw new Error('the vm tier runs inside the cgroup v2 VM: sudo scripts/vm-test (or scripts/test)');
}

export default defineConfig({
  test: {
    include: ['test/vm/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
