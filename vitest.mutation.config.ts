import { defineConfig } from "vitest/config"

/**
 * The tests `npm run mutation` (Stryker) runs against each mutant of src/domain, src/engine and the
 * Aliyun code table: the unit tests that exercise them (the guard's assembly through the limits and
 * breaker tests), without the wall-clock I/O tests.
 */
export default defineConfig({
  test: {
    include: [
      "test/domain/**/*.test.ts", "test/engine/**/*.test.ts", "test/aliyun/codes.test.ts", "test/aliyun/codePatterns.test.ts",
      "test/aliyun/evidence.test.ts", "test/cache/inFlight.test.ts", "test/cache/statusCache.test.ts", "test/cache/sharedFlight.test.ts",
      "test/limits/providerLimits.test.ts", "test/breaker/breaker.test.ts"
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
