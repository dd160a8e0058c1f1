import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Files run in parallel, each in its own temp dir; tests inside a file run in order.
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
