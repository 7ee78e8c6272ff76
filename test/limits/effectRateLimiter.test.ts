/**
 * effect's RateLimiter under concurrency, with its memory store and its Redis store, before precall
 * relies on it. What holds: every store admits exactly `limit` of many concurrent consumes, and "delay"
 * hands concurrent callers distinct slots one refill apart. What does not fit precall (each shown below,
 * and what src/limits does about it):
 * 1. A bucket (or fixed window) as large as the per-second limit passes nearly twice the limit within
 *    one second → turn.ts spaces calls with a bucket of one token.
 * 2. "delay" reserves before the caller knows whether it can wait; reservations of callers that then
 *    give up at their deadline are kept, and with demand above the limit no call goes out at all after a
 *    moment → turn.ts asks in "fail" mode first and reserves only a wait that fits.
 * 3. The Redis token bucket takes `now` from the client's clock: a client whose clock runs ahead gets
 *    a second full burst → RedisRateLimiterStore uses the server's TIME.
 */
import { assert, describe, it } from "@effect/vitest"
import { afterAll } from "vitest"
import { Context, Duration, Effect, Exit, Layer } from "effect"
import { RateLimiter } from "effect/persistence"
import * as Redis from "effect/persistence/Redis"
import { TestClock } from "effect/testing"
import { makeRedisRateLimiterStore } from "../../src/limits/RedisRateLimiterStore.ts"
import { bucketOf, takeTurn } from "../../src/limits/turn.ts"
import { SharedRedis, sharedRedisLayer } from "../../src/redis/SharedRedis.ts"
import { deleteKeysUnder, REDIS_URL, settingsSync, uniquePrefix } from "./support.ts"

const prefix = uniquePrefix()
afterAll(() => deleteKeysUnder(REDIS_URL, prefix))

const memoryLimiter = RateLimiter.make.pipe(Effect.provide(RateLimiter.layerStoreMemory))

/** Two limiters over one memory store, as two fibers of one instance would share it. */
const memoryPair = Effect.gen(function*() {
  const store = yield* RateLimiter.RateLimiterStore
  const limiter = RateLimiter.make.pipe(Effect.provideService(RateLimiter.RateLimiterStore, store))
  return [yield* limiter, yield* limiter] as const
}).pipe(Effect.provide(RateLimiter.layerStoreMemory))

/** A limiter over effect's own Redis store (or ours), on a connection of its own for the test's scope. */
const redisLimiter = (store: "effect" | "ours") =>
  Effect.gen(function*() {
    const shared = Context.get(yield* Layer.build(sharedRedisLayer(settingsSync({ redisUrl: REDIS_URL, redisTimeoutMs: 1000 }))), SharedRedis)
    const redis = shared.redis!
    const makeStore = store === "effect"
      ? RateLimiter.makeStoreRedis({ prefix: `${prefix}${store}:` }).pipe(Effect.provideService(Redis.Redis, redis))
      : makeRedisRateLimiterStore(redis, `${prefix}${store}:`)
    return yield* RateLimiter.make.pipe(Effect.provideServiceEffect(RateLimiter.RateLimiterStore, makeStore))
  })

const redisPair = (store: "effect" | "ours") => Effect.all([redisLimiter(store), redisLimiter(store)])

const admitted = (exits: ReadonlyArray<Exit.Exit<unknown, unknown>>) => exits.filter(Exit.isSuccess).length

const concurrently = <A, E>(n: number, f: (i: number) => Effect.Effect<A, E>) =>
  Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => Effect.exit(f(i)), { concurrency: "unbounded" })

describe("effect's RateLimiter: what holds under concurrency", () => {
  const stores = [
    ["memory store", memoryPair],
    ["effect's Redis store, two connections", redisPair("effect")]
  ] as const

  for (const [name, pair] of stores) {
    it.live(`${name}: of 200 concurrent consumes exactly the limit pass, token bucket and fixed window`, () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair
        const key = `concurrent:${Math.random()}`
        for (const algorithm of ["token-bucket", "fixed-window"] as const) {
          const exits = yield* concurrently(200, (i) =>
            (i % 2 === 0 ? a : b).consume({ key: `${key}:${algorithm}`, algorithm, limit: 25, window: "10 seconds" }))
          assert.strictEqual(admitted(exits), 25, algorithm)
        }
      }).pipe(Effect.scoped))

    it.live(`${name}: "delay" gives concurrent callers distinct slots one refill interval apart`, () =>
      Effect.gen(function*() {
        const [a, b] = yield* pair
        const key = `slots:${Math.random()}`
        const exits = yield* concurrently(30, (i) =>
          (i % 2 === 0 ? a : b).consume({ key, algorithm: "token-bucket", onExceeded: "delay", limit: 10, window: "10 seconds" }))
        const delays = exits.map((e) => (Exit.isSuccess(e) ? Duration.toMillis(e.value.delay) : NaN)).sort((x, y) => x - y)
        assert.strictEqual(delays.filter((d) => d === 0).length, 10)
        // 1 s refill interval; the Redis run loses a few ms of real time between consumes
        delays.slice(10).forEach((d, k) => assert.approximately(d, (k + 1) * 1000, 50))
      }).pipe(Effect.scoped))
  }
})

describe("effect's RateLimiter: what precall works around", () => {
  /** Consumes in "fail" mode at each of the times (ms), on the TestClock; returns the times that passed. */
  const passedAt = (times: ReadonlyArray<number>, consume: Effect.Effect<unknown, unknown>) =>
    Effect.gen(function*() {
      const passed: Array<number> = []
      for (const t of times) {
        yield* TestClock.setTime(t)
        if (Exit.isSuccess(yield* Effect.exit(consume))) passed.push(t)
      }
      return passed
    })
  const everyMs = (from: number, to: number, step: number) => Array.from({ length: Math.floor((to - from) / step) }, (_, i) => from + i * step)
  const inWindow = (times: ReadonlyArray<number>, from: number) => times.filter((t) => t >= from && t < from + 1000).length

  it.effect("1. a bucket as large as the limit passes nearly twice the limit within one second; one token does not", () =>
    Effect.gen(function*() {
      const limiter = yield* memoryLimiter
      const tryEveryMs = everyMs(0, 3000, 1)
      const full = yield* passedAt(tryEveryMs, limiter.consume({ key: "full", algorithm: "token-bucket", limit: 10, window: "1 second" }))
      assert.strictEqual(inWindow(full, 0), 19) // 10 at once, then one per 100 ms
      const fixed = yield* passedAt([0, ...everyMs(99, 3000, 1)], limiter.consume({ key: "fixed", algorithm: "fixed-window", limit: 10, window: "1 second" }))
      assert.isAbove(Math.max(...fixed.map((t) => inWindow(fixed, t))), 10)
      const spaced = yield* passedAt(tryEveryMs, limiter.consume({ key: "spaced", algorithm: "token-bucket", limit: 1, window: "100 millis" }))
      assert.strictEqual(Math.max(...spaced.map((t) => inWindow(spaced, t))), 10)
    }))

  it.effect("2. with plain \"delay\", callers that give up keep their reservations and soon none goes; asking first keeps the limit's rate", () =>
    Effect.gen(function*() {
      // 20 calls a second against 10/s; each call may wait at most 500 ms
      const arrivals = everyMs(0, 10_000, 50)
      const sentPerSecond = (sent: ReadonlyArray<number>) => Array.from({ length: 10 }, (_, s) => inWindow(sent, s * 1000))

      const plain = yield* memoryLimiter
      const plainSent: Array<number> = []
      for (const t of arrivals) {
        yield* TestClock.setTime(t)
        const { delay } = yield* plain.consume({ key: "plain", algorithm: "token-bucket", onExceeded: "delay", limit: 1, window: "100 millis" })
        if (Duration.toMillis(delay) <= 500) plainSent.push(t + Duration.toMillis(delay))
      }
      assert.deepStrictEqual(sentPerSecond(plainSent).slice(2), [0, 0, 0, 0, 0, 0, 0, 0])

      const asking = yield* Effect.provide(Effect.service(RateLimiter.RateLimiterStore), RateLimiter.layerStoreMemory)
      const askingSent: Array<number> = []
      for (const t of arrivals) {
        yield* TestClock.setTime(t)
        const turn = yield* takeTurn(asking, bucketOf("asking", 10), { maxWaitMs: 500, deadlineMs: 800 })
        if (turn._tag === "Go") askingSent.push(t + turn.delayMs)
      }
      assert.deepStrictEqual(sentPerSecond(askingSent), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10])
    }))

  it.live("3. effect's Redis token bucket trusts the client's clock: one five minutes ahead gets a second burst; ours does not", () =>
    Effect.gen(function*() {
      const drain = (limiter: RateLimiter.RateLimiter, key: string) =>
        Effect.map(
          Effect.forEach(Array.from({ length: 20 }), () =>
            Effect.exit(limiter.consume({ key, algorithm: "token-bucket", limit: 10, window: "1 minute" }))),
          admitted
        )
      const ahead = (effect: Effect.Effect<number>) =>
        Effect.gen(function*() {
          yield* TestClock.setTime(Date.now() + 5 * 60_000)
          return yield* effect
        }).pipe(Effect.provide(TestClock.layer()))

      for (const [store, expected] of [["effect", 10], ["ours", 0]] as const) {
        const [onTime, skewed] = yield* redisPair(store)
        const key = `skew:${Math.random()}`
        assert.strictEqual(yield* drain(onTime, key), 10)
        assert.strictEqual(yield* ahead(drain(skewed, key)), expected, store)
      }
    }).pipe(Effect.scoped))
})
