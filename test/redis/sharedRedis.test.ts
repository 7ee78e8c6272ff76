/**
 * SharedRedis on the machine's Redis: operations run there while it answers in time, in memory
 * otherwise; one slow reply does not switch an instance to memory, three in a row or a failure do,
 * and the background probe brings Redis back.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Metric, Schedule } from "effect"
import { makeSharedFlight } from "../../src/cache/SharedFlight.ts"
import type { Decision } from "../../src/domain/decision.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { redisFallbacksTotal, RedisUnavailable, SharedRedis, sharedRedisLayer, unavailable } from "../../src/redis/SharedRedis.ts"

const fallbacks = (reason: string) => Effect.map(Metric.value(Metric.withAttributes(redisFallbacksTotal, { reason })), (v) => v.count)

const withShared = <A, E>(redisUrl: string | undefined, body: (shared: SharedRedis["Service"]) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.gen(function*() {
    const settings = yield* Effect.orDie(settingsFromObject({ ...(redisUrl === undefined ? {} : { redisUrl, redisKeySecret: "test-shared-secret-0123456789" }), redisTimeoutMs: 50 }))
    const shared = Context.get(yield* Layer.build(sharedRedisLayer(settings)), SharedRedis)
    return yield* body(shared)
  }))

const ping = (shared: SharedRedis["Service"]) => shared.use((redis) => unavailable(redis.send<string>("PING")), Effect.succeed("memory"))
const slow = (shared: SharedRedis["Service"]) => shared.use(() => Effect.as(Effect.sleep("200 millis"), "redis"), Effect.succeed("memory"))

describe("SharedRedis", () => {
  it.live("without a Redis URL every operation runs its in-memory fallback", () =>
    withShared(undefined, (shared) => Effect.gen(function*() {
      assert.strictEqual(yield* ping(shared), "memory")
      assert.deepInclude(yield* shared.health, { configured: false, up: false })
    })))

  it.live("with Redis up, operations run on Redis", () =>
    withShared("redis://127.0.0.1:6379", (shared) => Effect.gen(function*() {
      assert.strictEqual(yield* ping(shared), "PONG")
      assert.deepInclude(yield* shared.health, { configured: true, up: true })
    })))

  it.live("a slow reply runs that operation in memory; three in a row mark Redis down; the probe brings it back", () =>
    withShared("redis://127.0.0.1:6379", (shared) => Effect.gen(function*() {
      const slowBefore = yield* fallbacks("slow")
      assert.strictEqual(yield* slow(shared), "memory")
      assert.isTrue((yield* shared.health).up, "one slow reply does not mark Redis down")
      assert.strictEqual(yield* ping(shared), "PONG")
      for (let i = 0; i < 3; i++) yield* slow(shared)
      assert.strictEqual((yield* fallbacks("slow")) - slowBefore, 4)
      const down = yield* shared.health
      assert.isFalse(down.up)
      assert.match(down.lastError ?? "", /3 replies in a row slower than 50 ms/)
      const downBefore = yield* fallbacks("down")
      assert.strictEqual(yield* ping(shared), "memory", "while down, Redis is not asked")
      assert.strictEqual((yield* fallbacks("down")) - downBefore, 1)
      // the probe (a real PING every second) marks it up again: wait for that, bounded
      yield* shared.health.pipe(Effect.repeat({ until: (h) => h.up, schedule: Schedule.spaced("50 millis") }), Effect.timeout("3 seconds"))
      assert.strictEqual(yield* ping(shared), "PONG")
    })), 10_000)

  it.live("a failed operation marks Redis down at once", () =>
    withShared("redis://127.0.0.1:6379", (shared) => Effect.gen(function*() {
      const failedBefore = yield* fallbacks("failed")
      const r = yield* shared.use(() => Effect.fail(new RedisUnavailable({ cause: "connection lost" })), Effect.succeed("memory"))
      assert.strictEqual(r, "memory")
      assert.deepInclude(yield* shared.health, { up: false, lastError: "connection lost" })
      assert.strictEqual((yield* fallbacks("failed")) - failedBefore, 1)
    })))

  it.live("a Redis that is not there: start-up does not fail, decisions run in memory", () =>
    withShared("redis://127.0.0.1:1", (shared) => Effect.gen(function*() {
      assert.strictEqual(yield* ping(shared), "memory")
      assert.deepInclude(yield* shared.health, { configured: true, up: false })
    })), 10_000)
})

describe("shared flights and Redis health", () => {
  it.live("a flight with no budget left decides at once and never sends Redis an invalid expiry (which would mark Redis down)", () =>
    withShared("redis://127.0.0.1:6379", (shared) => Effect.gen(function*() {
      const budgets: Array<number> = []
      const flight = makeSharedFlight(shared)
      for (const budget of [0, -5, 0.4]) {
        yield* flight(`no-budget-${budget}`, budget, (b) => Effect.sync(() => budgets.push(b)).pipe(Effect.as({} as Decision)))
      }
      assert.strictEqual(budgets.length, 3)
      assert.isTrue((yield* shared.health).up)
    })))

  it.live("an error reply (Redis refused one command) falls back for that operation only", () =>
    withShared("redis://127.0.0.1:6379", (shared) => Effect.gen(function*() {
      const r = yield* shared.use((redis) => unavailable(redis.send("SET", "precall-test:invalid-expiry", "x", "PX", "0")), Effect.succeed("memory"))
      assert.strictEqual(r, "memory")
      assert.isTrue((yield* shared.health).up)
    })))
})
