import { defineConfig } from 'vitest/config';

// Unit tier: no root, no host changes, fast.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 10_000,
  },
});
