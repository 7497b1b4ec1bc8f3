import { defineConfig } from 'vitest/config';

// Host integration tier: root, real namespaces, mounts and cgroups. One corrald with roots of its
// own serves every file; the global teardown removes everything and fails on any leak.
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
