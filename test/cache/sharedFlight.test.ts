/**
 * Single-flight across instances when no Redis is configured: the instance decides alone, at once,
 * with the whole budget, and touches no shared state. Going through the memory fallback instead
 * forked a detached publisher per decision (found by the bench's soak row: about 1 KB a decision
 * piled up where nothing yielded to the event loop).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeSharedFlight } from "../../src/cache/SharedFlight.ts"
import type { Decision } from "../../src/domain/decision.ts"
import { noRedis, type SharedRedisShape } from "../../src/redis/SharedRedis.ts"

const decision: Decision = {
  decision: "use-x", dial: "17000000000", extension: null, subsId: "1000000123456789", provider: "aliyun", poolKey: "FC100000000001", status: 1, source: "provider",
  reason: "status 1", providerCode: null, attempts: 1, elapsedMs: 0, requestIds: ["r"]
}

describe("shared flight without Redis", () => {
  it.effect("decides once with the whole budget and never asks the shared store", () =>
    Effect.gen(function*() {
      let uses = 0
      const counting: SharedRedisShape = { ...noRedis, use: (_op, fallback) => Effect.suspend(() => (uses++, fallback)) }
      const budgets: Array<number> = []
      const flight = makeSharedFlight(counting)
      const d = yield* flight("key", 1500, (budget) => Effect.sync(() => (budgets.push(budget), decision)))
      assert.deepStrictEqual({ d, budgets, uses }, { d: decision, budgets: [1500], uses: 0 })
    }))
})
