/**
 * turn.ts asks effect's token-bucket store directly instead of through `RateLimiter.consume`; its
 * answers must be the ones `consume` gives for the same bucket, at any rate and any arrival times.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { RateLimiter } from "effect/persistence"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import { bucketOf, takeTurn, type Turn } from "../../src/limits/turn.ts"

/** The turn as `consume` answers it: "fail" mode first, then "delay" when the wait fits (turn.ts' header). */
const consumeTurn = (limiter: RateLimiter.RateLimiter, perSecond: number, wait: { maxWaitMs: number; deadlineMs: number }) => {
  const burst = Math.max(1, Math.ceil(perSecond / 1000))
  const bucket = { key: "k", algorithm: "token-bucket", limit: burst, window: Duration.millis((burst * 1000) / perSecond) } as const
  return Effect.matchEffect(limiter.consume({ ...bucket, onExceeded: "fail" }), {
    onSuccess: (): Effect.Effect<Turn, RateLimiter.RateLimiterError> => Effect.succeed({ _tag: "Go", delayMs: 0 }),
    onFailure: (e) => {
      if (e.reason._tag !== "RateLimitExceeded") return Effect.fail(e)
      const waitMs = Duration.toMillis(e.reason.retryAfter)
      if (waitMs > wait.maxWaitMs) return Effect.succeed<Turn>({ _tag: "Full", waitMs })
      return Effect.map(limiter.consume({ ...bucket, onExceeded: "delay" }), ({ delay }): Turn => {
        const delayMs = Duration.toMillis(delay)
        return delayMs < wait.deadlineMs ? { _tag: "Go", delayMs } : { _tag: "Full", waitMs: delayMs }
      })
    }
  })
}

const close = (a: Turn, b: Turn) =>
  a._tag === b._tag && Math.abs((a._tag === "Go" ? a.delayMs : a.waitMs) - (b._tag === "Go" ? b.delayMs : b.waitMs)) < 1e-6

describe("takeTurn", () => {
  it.effect("answers as RateLimiter.consume does, for any rate and arrivals", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 20_000 }),
          fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 60 }),
          fc.integer({ min: 0, max: 1000 }),
          (perSecond, gapsMs, maxWaitMs) =>
            Effect.runPromise(
              Effect.gen(function*() {
                const store = yield* Effect.provide(Effect.service(RateLimiter.RateLimiterStore), RateLimiter.layerStoreMemory)
                const limiter = yield* RateLimiter.make.pipe(Effect.provide(RateLimiter.layerStoreMemory))
                const bucket = bucketOf("k", perSecond)
                const wait = { maxWaitMs, deadlineMs: maxWaitMs + 200 }
                let now = 0
                for (const gap of gapsMs) {
                  now += gap
                  yield* TestClock.setTime(now)
                  const ours = yield* takeTurn(store, bucket, wait)
                  const theirs = yield* consumeTurn(limiter, perSecond, wait)
                  if (!close(ours, theirs)) return false
                }
                return true
              }).pipe(Effect.provide(TestClock.layer()))
            )
        ),
        { numRuns: 200 }
      )
    ))

  it.effect("a slowed-down limit spaces turns 2^halvings refills apart", () =>
    Effect.gen(function*() {
      const store = yield* Effect.provide(Effect.service(RateLimiter.RateLimiterStore), RateLimiter.layerStoreMemory)
      const bucket = bucketOf("k", 10)
      const turns: Array<Turn> = []
      for (let i = 0; i < 3; i++) turns.push(yield* takeTurn(store, bucket, { maxWaitMs: 10_000, deadlineMs: 10_000 }, 2))
      assert.deepStrictEqual(turns, [{ _tag: "Go", delayMs: 0 }, { _tag: "Go", delayMs: 400 }, { _tag: "Go", delayMs: 800 }])
    }).pipe(Effect.provide(TestClock.layer())))
})
