/**
 * The limits as the guard uses them, on the TestClock with in-memory state (no Redis): waiting within
 * the budget, Local.RateLimited beyond it, the throttling slow-down; and the slow-down shared through
 * a real Redis.
 */
import { assert, describe, it } from "@effect/vitest"
import { afterAll } from "vitest"
import { Clock, Context, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import type { ProviderError } from "../../src/domain/errors.ts"
import type { GuardedCall } from "../../src/engine/ProviderGuard.ts"
import { accountOf, limitKey, makeProviderLimits, perSecondOf } from "../../src/limits/ProviderLimits.ts"
import { defaultRateLimits } from "../../src/policy/settings.ts"
import { noRedis, SharedRedis, sharedRedisLayer } from "../../src/redis/SharedRedis.ts"
import { deleteKeysUnder, keysUnder, REDIS_URL, settingsSync, uniquePrefix } from "./support.ts"

const prefix = uniquePrefix()
afterAll(() => deleteKeysUnder(REDIS_URL, prefix))

const call = (budgetMs: number, action = "QueryCallStatus"): GuardedCall => ({ provider: "aliyun", endpoint: "https://dyplsapi.aliyuncs.com", action, budgetMs })

const inMemory = (rateLimits: Record<string, number>, throttleCooldownMs = 10_000) =>
  makeProviderLimits(settingsSync({ rateLimits, attemptTimeoutMs: 300, throttleCooldownMs })).pipe(
    Effect.provideService(SharedRedis, noRedis)
  )

/** Starts `n` admissions at once; returns, per admission, when it was let through (ms) or its error. */
const admitAll = (admit: Effect.Effect<void, ProviderError>, n: number, runForMs: number) =>
  Effect.gen(function*() {
    const fibers = yield* Effect.forEach(Array.from({ length: n }), () =>
      Effect.forkChild(Effect.andThen(admit, Clock.currentTimeMillis).pipe(Effect.result)))
    yield* TestClock.adjust(runForMs)
    return yield* Effect.forEach(fibers, Fiber.join)
  })

describe("provider limits", () => {
  it.effect("calls are spaced 1000/limit ms apart, wait while the turn leaves an attempt's time, and fail at once beyond", () =>
    Effect.gen(function*() {
      const limits = yield* inMemory({ QueryCallStatus: 10 })
      const results = yield* admitAll(limits.withTurn(call(1000), Effect.void), 12, 2000)
      const admittedAt = results.flatMap((r) => (r._tag === "Success" ? [r.success] : []))
      // budget 1000 − attempt timeout 300: turns up to 700 ms away
      assert.deepStrictEqual(admittedAt, [0, 100, 200, 300, 400, 500, 600, 700])
      const rejected = results.flatMap((r) => (r._tag === "Failure" ? [r.failure] : []))
      assert.strictEqual(rejected.length, 4)
      for (const e of rejected) {
        assert.deepInclude(e, { provider: "aliyun", action: "QueryCallStatus", code: "Local.RateLimited", errorClass: "local" })
        assert.include(e.message, "the local limit for QueryCallStatus was hit: 10/s")
      }
    }))

  it.effect("a rejected call takes no turn: under twice the demand the limit's rate still goes out", () =>
    Effect.gen(function*() {
      const limits = yield* inMemory({ QueryCallStatus: 10 })
      const sent: Array<number> = []
      const fibers = []
      for (let t = 0; t < 5000; t += 50) {
        fibers.push(yield* Effect.forkChild(Effect.andThen(limits.withTurn(call(800), Effect.void), Effect.map(Clock.currentTimeMillis, (now) => sent.push(now))).pipe(Effect.ignore)))
        yield* TestClock.adjust(50)
      }
      yield* TestClock.adjust(1000)
      yield* Effect.forEach(fibers, Fiber.join)
      const perSecond = Array.from({ length: 5 }, (_, s) => sent.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length)
      assert.deepStrictEqual(perSecond, [10, 10, 10, 10, 10])
    }))

  it.effect("actions without a limit, or with 0, pass at once", () =>
    Effect.gen(function*() {
      const limits = yield* inMemory({ QueryCallStatus: 0 })
      const results = yield* admitAll(Effect.andThen(limits.withTurn(call(0), Effect.void), limits.withTurn(call(0, "NoSuchAction"), Effect.void)), 50, 0)
      assert.isTrue(results.every((r) => r._tag === "Success" && r.success === 0))
    }))

  it.effect("a throttling reply halves the limit, at most once a second, until the cooldown passes without one", () =>
    Effect.gen(function*() {
      const limits = yield* inMemory({ QueryCallStatus: 10 }, 3000)
      /** How far apart two calls at once are let through: 1000 / the limit in force. */
      const spacing = Effect.gen(function*() {
        yield* TestClock.adjust(2000) // a full bucket
        const results = yield* admitAll(limits.withTurn(call(10_000), Effect.void), 2, 2000)
        const [a, b] = results.map((r) => (r._tag === "Success" ? r.success : NaN))
        return b! - a!
      })
      assert.strictEqual(yield* spacing, 100)
      yield* limits.throttled(call(1000), undefined)
      yield* limits.throttled(call(1000), undefined) // replies to calls sent before the halving: no second one
      assert.strictEqual(yield* spacing, 200)
      assert.strictEqual(yield* spacing, 100) // 3 s without a throttling reply: back to the configured limit
      yield* limits.throttled(call(1000), undefined)
      yield* TestClock.adjust(1000)
      yield* limits.throttled(call(1000), undefined)
      const rejected = yield* Effect.flip(Effect.andThen(limits.withTurn(call(300), Effect.void), limits.withTurn(call(300), Effect.void)))
      assert.include(rejected.message, "2.5/s (the configured 10/s halved 2x after throttling replies)")
    }))

  it.effect("turns already given keep their place when the limit halves or recovers: never two at once, no burst after", () =>
    Effect.gen(function*() {
      const limits = yield* inMemory({ QueryCallStatus: 10 }, 3000)
      const at = (fibers: ReadonlyArray<Fiber.Fiber<{ readonly _tag: string; readonly success?: number }>>) =>
        Effect.map(Effect.forEach(fibers, Fiber.join), (rs) => rs.map((r) => r.success))
      const start = (n: number, budgetMs: number) =>
        Effect.forEach(Array.from({ length: n }), () => Effect.forkChild(Effect.andThen(limits.withTurn(call(budgetMs), Effect.void), Clock.currentTimeMillis).pipe(Effect.result)))
      const queued = yield* start(8, 1000)
      yield* TestClock.adjust(0) // they take their turns
      yield* limits.throttled(call(1000), undefined)
      const halved = yield* start(6, 2500)
      yield* TestClock.adjust(4000) // 3 s after the throttling reply the limit is whole again
      const recovered = yield* start(5, 1000)
      yield* TestClock.adjust(1000)
      assert.deepStrictEqual(yield* at(queued), [0, 100, 200, 300, 400, 500, 600, 700])
      assert.deepStrictEqual(yield* at(halved), [800, 1000, 1200, 1400, 1600, 1800])
      assert.deepStrictEqual(yield* at(recovered), [4000, 4100, 4200, 4300, 4400])
    }))

  it.effect("the key is the account's: every key of an Aliyun account shares its quota", () =>
    Effect.sync(() => {
      assert.strictEqual(accountOf(settingsSync({})), "default")
      assert.strictEqual(accountOf(settingsSync({ aliyunAccessKeyId: "LTAIkey", aliyunAccessKeySecret: "s" })), "LTAIkey")
      assert.strictEqual(accountOf(settingsSync({ aliyunAccessKeyId: "LTAIkey", aliyunAccessKeySecret: "s", aliyunAccountId: "1234" })), "1234")
      assert.strictEqual(limitKey("aliyun", "1234", "BindAxb"), "limit:{aliyun:1234}:BindAxb")
    }))

  it.effect("each action has its own limit, by the provider's name for it", () =>
    Effect.sync(() => {
      assert.strictEqual(perSecondOf(defaultRateLimits, "BindAxn"), 1000)
      assert.strictEqual(perSecondOf(defaultRateLimits, "BindAxb"), 5000)
      assert.strictEqual(perSecondOf(defaultRateLimits, "QueryCallStatus"), 200)
      assert.strictEqual(perSecondOf(defaultRateLimits, "Bind"), undefined)
    }))

  it.live("with Redis, one instance's throttling reply slows every instance down; no key names the AccessKey ID", () =>
    Effect.gen(function*() {
      const settings = settingsSync({
        redisUrl: REDIS_URL, redisPrefix: prefix, redisTimeoutMs: 1000, rateLimits: { QueryCallStatus: 1 },
        aliyunAccessKeyId: "LTAI5tVisibleKeyId", aliyunAccessKeySecret: "a-secret"
      })
      const instance = Effect.flatMap(Layer.build(sharedRedisLayer(settings)), (context) =>
        makeProviderLimits(settings).pipe(Effect.provideService(SharedRedis, Context.get(context, SharedRedis))))
      const [a, b] = [yield* instance, yield* instance]
      yield* a.throttled(call(1000), undefined)
      // 1/s halved: B's first call takes the one token, its second is 2 s away, beyond its budget
      yield* b.withTurn(call(1300), Effect.void)
      const rejected = yield* Effect.flip(b.withTurn(call(1300), Effect.void))
      assert.include(rejected.message, "0.5/s (the configured 1/s halved 1x after throttling replies)")
      const keys = yield* Effect.promise(() => keysUnder(REDIS_URL, prefix))
      assert.isNotEmpty(keys)
      assert.notInclude(keys.join(" "), "LTAI5tVisibleKeyId")
    }).pipe(Effect.scoped))
})
