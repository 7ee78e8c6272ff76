import { defineConfig } from "vitest/config"

/**
 * The tests `npm run mutation` (Stryker) runs against each mutant of src/domain, src/engine and the
 * Aliyun code table: the unit tests that exercise them, without the wall-clock I/O tests.
 */
export default defineConfig({
  test: {
    include: ["test/domain/**/*.test.ts", "test/engine/**/*.test.ts", "test/aliyun/codes.test.ts", "test/cache/inFlight.test.ts", "test/cache/statusCache.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
