/**
 * Single-flight across instances when no Redis is configured: the instance decides alone, at once,
 * with the whole budget, and touches no shared state. And when Redis fails mid-flight: a polling
 * waiter decides itself with the time it has left, a holder that cannot publish still answers. Going through the memory fallback instead
 * forked a detached publisher per decision (found by the bench's soak row: about 1 KB a decision
 * piled up where nothing yielded to the event loop).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
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

/**
 * A Redis that answers the lock script with `holder` and then fails every operation after `okOps`
 * operations, as SharedRedis.use sees it: a failed operation runs its fallback.
 */
const failingAfter = (holder: string | null, okOps: number) => {
  let ops = 0
  const redis = {
    eval: () => () => Effect.succeed(holder),
    send: () => Effect.succeed([null, holder])
  } as unknown as NonNullable<SharedRedisShape["redis"]>
  const shared: SharedRedisShape = {
    ...noRedis,
    redis,
    prefix: "t:",
    use: (op, fallback) => Effect.suspend(() => (ops++ < okOps ? Effect.orElseSucceed(op(redis), () => undefined as never) : fallback)),
    health: Effect.succeed({ configured: true, up: true, since: 0, lastError: undefined })
  }
  return { shared, ops: () => ops }
}

describe("shared flight when Redis fails mid-flight", () => {
  it.effect("a waiter whose polls start failing stops waiting and decides itself with the time it has left", () =>
    Effect.gen(function*() {
      const { shared } = failingAfter("another-instance", 3) // the lock and two polls answer, then Redis is gone
      const budgets: Array<number> = []
      const flight = makeSharedFlight(shared)
      const fiber = yield* Effect.forkChild(flight("key", 1000, (budget) => Effect.sync(() => (budgets.push(budget), decision))))
      yield* TestClock.adjust(1000)
      const d = yield* Fiber.join(fiber)
      assert.strictEqual(d.decision, "use-x")
      assert.strictEqual(budgets.length, 1)
      // it waited through two polls (10 ms each), not half its budget
      assert.isAtLeast(budgets[0]!, 1000 - 50)
      assert.isBelow(budgets[0]!, 1000)
    }))

  it.effect("a holder whose publishing fails still answers its own caller", () =>
    Effect.gen(function*() {
      const { shared, ops } = failingAfter(null, 1) // the lock is ours; publishing and release fail
      const flight = makeSharedFlight(shared)
      const d = yield* flight("key", 1000, () => Effect.succeed(decision))
      assert.strictEqual(d, decision)
      yield* TestClock.adjust(10)
      assert.isAtLeast(ops(), 2, "the holder did try to publish")
    }))
})
