import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the "source"
// export condition, so tests never depend on a prior build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
