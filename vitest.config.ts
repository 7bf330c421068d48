import { defineConfig } from 'vitest/config';

// Unit tests live next to the code; tests that start real processes live in test/integration/.
// The machine has 2 cores: keep parallelism low so process-starting tests do not starve each other.
export default defineConfig({
  test: {
    include: ['{cli,client,shared,worker,gateway,loadtest,jobs,stream}/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
