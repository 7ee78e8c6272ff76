/**
 * Our Redis RateLimiterStore (server clock, one hash-tagged key) against a real Redis: exact under
 * concurrency from two connections, one limit for clients whose clocks are minutes apart, one key.
 */
import { assert, describe, it } from "@effect/vitest"
import { afterAll } from "vitest"
import { Context, Duration, Effect, Exit, Layer } from "effect"
import { RateLimiter } from "effect/persistence"
import { TestClock } from "effect/testing"
import { limitKey } from "../../src/limits/ProviderLimits.ts"
import { makeRedisRateLimiterStore } from "../../src/limits/RedisRateLimiterStore.ts"
import { SharedRedis, sharedRedisLayer } from "../../src/redis/SharedRedis.ts"
import { deleteKeysUnder, keysUnder, REDIS_URL, settingsSync, uniquePrefix } from "./support.ts"

const prefix = uniquePrefix()
afterAll(() => deleteKeysUnder(REDIS_URL, prefix))

/** A limiter over our store on a connection of its own, for the test's scope. */
const limiter = Effect.gen(function*() {
  const shared = Context.get(yield* Layer.build(sharedRedisLayer(settingsSync({ redisUrl: REDIS_URL, redisTimeoutMs: 1000 }))), SharedRedis)
  return yield* RateLimiter.make.pipe(Effect.provideServiceEffect(RateLimiter.RateLimiterStore, makeRedisRateLimiterStore(shared.redis!, prefix)))
})

/** Runs `effect` with a Clock `offsetMs` away from the real one. */
const skewed = (offsetMs: number) => <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(Date.now() + offsetMs)
    return yield* effect
  }).pipe(Effect.provide(TestClock.layer()))

describe("our Redis RateLimiterStore", () => {
  it.live("of 200 concurrent consumes from two connections exactly the limit pass", () =>
    Effect.gen(function*() {
      const [a, b] = [yield* limiter, yield* limiter]
      const exits = yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => i), (i) =>
        Effect.exit((i % 2 === 0 ? a : b).consume({ key: "concurrent", algorithm: "token-bucket", limit: 25, window: "10 seconds" })), {
        concurrency: "unbounded"
      })
      assert.strictEqual(exits.filter(Exit.isSuccess).length, 25)
    }).pipe(Effect.scoped))

  it.live("clients whose clocks are minutes apart share one limit, and their reservations one queue", () =>
    Effect.gen(function*() {
      const [behind, ahead] = [yield* limiter, yield* limiter]
      const consume = (l: RateLimiter.RateLimiter, key: string, onExceeded: "fail" | "delay") =>
        l.consume({ key, algorithm: "token-bucket", onExceeded, limit: 10, window: "10 seconds" })
      const drain = (l: RateLimiter.RateLimiter, key: string) =>
        Effect.map(Effect.forEach(Array.from({ length: 20 }), () => Effect.exit(consume(l, key, "fail"))), (xs) => xs.filter(Exit.isSuccess).length)

      // whichever drains first, the other finds the bucket empty
      assert.deepStrictEqual([yield* skewed(-4 * 60_000)(drain(behind, "a")), yield* skewed(3 * 60_000)(drain(ahead, "a"))], [10, 0])
      assert.deepStrictEqual([yield* skewed(3 * 60_000)(drain(ahead, "b")), yield* skewed(-4 * 60_000)(drain(behind, "b"))], [10, 0])

      // alternating reservations are one refill (1 s) apart whichever clock asks: each turn is at
      // (real time asked + delay), and consecutive turns are 1 s apart however slowly the asks go out
      const delays: Array<number> = []
      const turns: Array<number> = []
      for (let i = 0; i < 16; i++) {
        const l = i % 2 === 0 ? behind : ahead
        const asked = performance.now()
        const result = yield* skewed(i % 2 === 0 ? -4 * 60_000 : 3 * 60_000)(consume(l, "c", "delay"))
        delays.push(Duration.toMillis(result.delay))
        turns.push(asked + Duration.toMillis(result.delay))
      }
      assert.deepStrictEqual(delays.slice(0, 10), Array(10).fill(0))
      assert.isAtMost(delays[10]!, 1050)
      for (let k = 11; k < 16; k++) assert.approximately(turns[k]! - turns[k - 1]!, 1000, 50, `turn ${k}`)
    }).pipe(Effect.scoped))

  it.live("a bucket is one hash under one hash-tagged key, expiring once it would be full again", () =>
    Effect.gen(function*() {
      const l = yield* limiter
      const key = limitKey("aliyun", "LTAI-test", "QueryCallStatus")
      // a window far longer than a new connection takes, so the key cannot expire before it is read
      yield* l.consume({ key, algorithm: "token-bucket", limit: 1, window: "30 seconds" })
      const keys = yield* Effect.promise(() => keysUnder(REDIS_URL, `${prefix}limit:`))
      assert.deepStrictEqual(keys, [`${prefix}limit:{aliyun:LTAI-test}:QueryCallStatus`])
      const shared = Context.get(yield* Layer.build(sharedRedisLayer(settingsSync({ redisUrl: REDIS_URL, redisTimeoutMs: 1000 }))), SharedRedis)
      assert.strictEqual(yield* shared.redis!.send<string>("TYPE", keys[0]!), "hash")
      const ttl = yield* shared.redis!.send<number>("PTTL", keys[0]!)
      assert.isTrue(ttl > 15_000 && ttl <= 30_000, `PTTL ${ttl}`)
    }).pipe(Effect.scoped))
})
