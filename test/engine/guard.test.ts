/**
 * The guard precall runs with (src/engine/guard.ts): a throttling reply, and only a throttling reply,
 * slows the action's shared limit down; the server's retry-after stretches the cool-down. In memory
 * (no Redis), with a metric registry and a log of its own.
 */
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Logger, Metric } from "effect"
import { type ErrorClass, ProviderError } from "../../src/domain/errors.ts"
import { guardLayer } from "../../src/engine/guard.ts"
import { type GuardedCall, ProviderGuard } from "../../src/engine/ProviderGuard.ts"
import { slowDownsTotal } from "../../src/limits/ProviderLimits.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { noRedis, SharedRedis } from "../../src/redis/SharedRedis.ts"

const call: GuardedCall = { provider: "aliyun", endpoint: "fake://guard", action: "QueryCallStatus", budgetMs: 3000 }

/** One failed attempt of class `errorClass` through a fresh guard; the slow-downs it caused and the log. */
const failOnce = (errorClass: ErrorClass, retryAfterMs?: number) =>
  Effect.gen(function*() {
    const logs: Array<string> = []
    const capture = Logger.make(({ message }) => logs.push((Array.isArray(message) ? message : [message]).map(String).join(" ")))
    const settings = yield* Effect.orDie(settingsFromObject({ rateLimits: { QueryCallStatus: 10 }, throttleCooldownMs: 5000 }))
    const error = new ProviderError({
      provider: "aliyun", action: "QueryCallStatus", code: "x", errorClass, message: "",
      ...(retryAfterMs === undefined ? {} : { retryAfterMs })
    })
    const failed = yield* Effect.gen(function*() {
      const guard = yield* ProviderGuard
      return yield* Effect.flip(guard.run(call, Effect.fail(error)))
    }).pipe(
      Effect.provide(guardLayer(settings).pipe(Layer.provide(Layer.succeed(SharedRedis, noRedis)))),
      Effect.provide(Logger.layer([capture]))
    )
    const slowDowns = (yield* Metric.value(Metric.withAttributes(slowDownsTotal, { provider: "aliyun", action: "QueryCallStatus" }))).count
    return { failed, slowDowns, logs }
  }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))

it.effect("a throttling reply halves the action's limit; the attempt's own error is passed on", () =>
  Effect.gen(function*() {
    const { failed, slowDowns, logs } = yield* failOnce("throttled")
    assert.strictEqual(failed.errorClass, "throttled")
    assert.strictEqual(slowDowns, 1)
    assert.isTrue(logs.some((l) => l.includes("aliyun throttled QueryCallStatus: its limit is now 5/s") && l.includes("until 5000 ms pass")), logs.join("\n"))
  }))

it.effect("the server's retry-after, when longer, stretches the cool-down", () =>
  Effect.gen(function*() {
    const { logs } = yield* failOnce("throttled", 9000)
    assert.isTrue(logs.some((l) => l.includes("until 9000 ms pass")), logs.join("\n"))
  }))

it.effect("no other failure slows the limit down", () =>
  Effect.gen(function*() {
    for (const errorClass of ["transient", "pool", "binding", "configuration", "bad-input"] as const) {
      const { failed, slowDowns } = yield* failOnce(errorClass)
      assert.strictEqual(failed.errorClass, errorClass)
      assert.strictEqual(slowDowns, 0, errorClass)
    }
  }))

it.effect("while the endpoint's breaker is open, calls are refused at once and take no turn of the limit", () =>
  Effect.gen(function*() {
    // 1 call/s and a budget that leaves no room to wait: a second turn within the second would be Local.RateLimited
    const settings = yield* Effect.orDie(settingsFromObject({
      rateLimits: { QueryCallStatus: 1 }, breakerMinimumCalls: 1, breakerWindow: 1, breakerFailureRatio: 0.5, attemptTimeoutMs: 300
    }))
    const tight: GuardedCall = { ...call, budgetMs: 300 }
    const codes = yield* Effect.gen(function*() {
      const guard = yield* ProviderGuard
      const down = new ProviderError({ provider: "aliyun", action: "QueryCallStatus", code: "Local.Connection", errorClass: "transient", message: "" })
      yield* Effect.flip(guard.run(tight, Effect.fail(down)))
      // the transitions stream tells the guard the endpoint opened
      yield* Effect.yieldNow
      const refused: Array<string> = []
      for (let i = 0; i < 3; i++) refused.push((yield* Effect.flip(guard.run(tight, Effect.succeed("never run")))).code)
      return refused
    }).pipe(Effect.provide(guardLayer(settings).pipe(Layer.provide(Layer.succeed(SharedRedis, noRedis)))))
    assert.deepStrictEqual(codes, ["Local.CircuitOpen", "Local.CircuitOpen", "Local.CircuitOpen"])
  }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
