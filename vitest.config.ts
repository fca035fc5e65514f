import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Tests that start containers share one engine and port 8080: run files one at a time.
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
