import { defineConfig } from "vitest/config"

/**
 * Two projects: `unit` runs files in parallel; `realtime` holds the tests whose point is real I/O
 * measured on the wall clock (requests per second at an emulator, Redis stopped mid-run). They run
 * one file at a time after the rest, so the other tests' CPU load on a 2-core machine cannot skew them.
 */
const realtime = [
  "test/limits/scaleOut.test.ts",
  "test/limits/serviceScaleOut.test.ts",
  "test/limits/redisStore.test.ts",
  "test/cache/shared.test.ts",
  "test/redis/sharedRedis.test.ts",
  "test/chatapp/qps.test.ts"
]

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: realtime } },
      { extends: true, test: { name: "realtime", include: realtime, fileParallelism: false } }
    ]
  }
})
