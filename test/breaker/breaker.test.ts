/**
 * The per-endpoint circuit breaker through the engine, on the TestClock with a scripted provider:
 * transitions, decisions degraded at once while open, probes, classification, metrics and logs.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Logger, Metric } from "effect"
import { CircuitBreaker } from "effect/persistence"
import { TestClock } from "effect/testing"
import { attemptOutcome } from "../../src/breaker/outcome.ts"
import { circuitState, circuitTransitionsTotal, ProviderBreakers } from "../../src/breaker/ProviderBreakers.ts"
import type { Decision } from "../../src/domain/decision.ts"
import { type ErrorClass, ProviderError } from "../../src/domain/errors.ts"
import type { DecideRequest } from "../../src/domain/request.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { guardLayer } from "../../src/engine/guard.ts"
import type { Settings } from "../../src/policy/settings.ts"
import { PrivacyNumberProvider } from "../../src/providers/Provider.ts"
import { noRedis, SharedRedis } from "../../src/redis/SharedRedis.ts"
import { fail, failWith, makeFakeProvider, ok, type Outcome, script } from "../engine/fakeProvider.ts"
import { settingsSync } from "../limits/support.ts"

const ENDPOINT = "fake://provider"
const request = { poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: "17000000001", callerNo: "13800138000" } as DecideRequest
const statusOne = { status: 1 as const, calledNo: "17000000001", extension: undefined }

/** Breaker after 4 calls with half of them failed, open 5 s; one attempt per decision; no rate limit. */
const breakerSettings = (extra: Partial<Parameters<typeof settingsSync>[0]> = {}): Settings =>
  settingsSync({ breakerMinimumCalls: 4, breakerWindow: 10, breakerFailureRatio: 0.5, breakerOpenMs: 5000, maxAttempts: 1, statusTtlMs: 0, rateLimits: { QueryCallStatus: 0 }, ...extra })

const transient = failWith("transient")

/** An engine guarded by guardLayer over a scripted provider, with log lines and metrics of its own. */
const setup = (settings: Settings, outcomes: ReadonlyArray<Outcome<typeof statusOne>>) =>
  Effect.gen(function*() {
    const { log, provider } = makeFakeProvider(script({ status: outcomes }))
    const context = yield* Layer.build(
      engineLayer(settings).pipe(
        Layer.provide(Layer.succeed(PrivacyNumberProvider, provider)),
        Layer.provideMerge(guardLayer(settings)),
        Layer.provide(Layer.succeed(SharedRedis, noRedis))
      )
    )
    const engine = yield* Effect.provide(Effect.service(Engine), context)
    const breakers = yield* Effect.provide(Effect.service(ProviderBreakers), context)
    /** One decision, letting `ms` pass on the TestClock (0: the scripted provider answers at once). */
    const decideWithin = (ms: number) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(engine.decide(request))
        yield* TestClock.adjust(ms)
        return yield* Fiber.join(fiber)
      })
    return { breakers, decide: decideWithin(0), decideWithin, providerCalls: () => log.length }
  })

const transitions = (from: string, to: string) =>
  Effect.map(Metric.value(Metric.withAttributes(circuitTransitionsTotal, { endpoint: ENDPOINT, from, to })), (v) => v.count)
const gauge = Effect.map(Metric.value(Metric.withAttributes(circuitState, { endpoint: ENDPOINT })), (v) => v.value)

/** Runs with a metric registry and a log of its own. */
const isolated = <A, E>(body: (logs: Array<string>) => Effect.Effect<A, E, any>) => {
  const logs: Array<string> = []
  const capture = Logger.make(({ message }) => logs.push((Array.isArray(message) ? message : [message]).map(String).join(" ")))
  return Effect.scoped(body(logs)).pipe(
    Effect.provideService(Metric.MetricRegistry, new Map()),
    Effect.provide(Logger.layer([capture]))
  ) as Effect.Effect<A, E>
}

const degradedByBreaker = (d: Decision) => {
  assert.deepInclude(d, { source: "degraded", providerCode: "Local.CircuitOpen", attempts: 0, elapsedMs: 0 })
  assert.include(d.reason, "circuit breaker for fake://provider is open")
}

describe("circuit breaker per provider endpoint", () => {
  it.effect("closed → open at the failure ratio after the minimum calls; open decisions degrade at once without calling", () =>
    isolated((logs) =>
      Effect.gen(function*() {
        const { breakers, decide, decideWithin, providerCalls } = yield* setup(breakerSettings(), [ok(statusOne), fail(transient), fail(transient)])
        assert.strictEqual((yield* decide).source, "provider")
        assert.deepStrictEqual(yield* breakers.breakerStates, [{ endpoint: ENDPOINT, state: "closed" }])
        yield* decide
        yield* decide // 2 of 3 failed, but fewer than 4 calls: still closed
        assert.deepStrictEqual(yield* breakers.breakerStates, [{ endpoint: ENDPOINT, state: "closed" }])
        assert.strictEqual(yield* gauge, 0)
        const fourth = yield* decideWithin(300) // the script is exhausted: this one hangs until the attempt timeout (a failure)
        assert.strictEqual(fourth.providerCode, "Transport.Timeout")
        assert.deepStrictEqual(yield* breakers.breakerStates, [{ endpoint: ENDPOINT, state: "open", retryAfterMs: 5000 }])

        for (let i = 0; i < 3; i++) degradedByBreaker(yield* decide)
        assert.strictEqual(providerCalls(), 4)
        assert.deepStrictEqual([yield* transitions("closed", "open"), yield* gauge], [1, 2])
        assert.deepStrictEqual(logs.filter((l) => l.includes("circuit breaker")), [
          "circuit breaker for fake://provider: closed → open for 5000 ms; attempts fail at once (Local.CircuitOpen) until a probe succeeds"
        ])
      })))

  it.effect("after the open duration one probe goes: a failure opens it again, a success closes it", () =>
    isolated((logs) =>
      Effect.gen(function*() {
        const outcomes = [...Array(4).fill(fail(transient)), fail(transient), ok(statusOne), ok(statusOne)]
        const { breakers, decide, providerCalls } = yield* setup(breakerSettings(), outcomes)
        for (let i = 0; i < 4; i++) yield* decide
        assert.strictEqual((yield* breakers.breakerStates)[0]?.state, "open")
        yield* TestClock.adjust(4999)
        degradedByBreaker(yield* decide)

        yield* TestClock.adjust(1)
        const probe = yield* decide // the probe fails: open again
        assert.deepInclude(probe, { providerCode: "isp.SYSTEM_ERROR", attempts: 1 })
        degradedByBreaker(yield* decide)
        assert.strictEqual(yield* gauge, 2)

        yield* TestClock.adjust(5000)
        assert.deepInclude(yield* decide, { source: "provider", attempts: 1 }) // the probe succeeds: closed
        assert.deepInclude(yield* decide, { source: "provider", attempts: 1 })
        assert.deepStrictEqual(yield* breakers.breakerStates, [{ endpoint: ENDPOINT, state: "closed" }])
        assert.strictEqual(providerCalls(), 7)

        assert.deepStrictEqual(
          [yield* transitions("closed", "open"), yield* transitions("open", "half-open"), yield* transitions("half-open", "open"), yield* transitions("half-open", "closed"), yield* gauge],
          [1, 2, 1, 1, 0]
        )
        assert.deepStrictEqual(logs.filter((l) => l.includes("circuit breaker")).map((l) => l.split(": ")[1]?.split(" for ")[0]), [
          "closed → open",
          "open → half-open",
          "half-open → open",
          "open → half-open",
          "half-open → closed"
        ])
      })))

  it.effect("a probe the caller gave up on is not counted: the next attempt probes again", () =>
    isolated(() =>
      Effect.gen(function*() {
        const outcomes = [...Array(4).fill(fail(transient)), ok(statusOne, 200), ok(statusOne)]
        const { breakers, decide, providerCalls } = yield* setup(breakerSettings(), outcomes)
        for (let i = 0; i < 4; i++) yield* decide
        yield* TestClock.adjust(5000)
        const probe = yield* Effect.forkChild(decide) // answers after 200 ms: interrupted at 100
        yield* TestClock.adjust(100)
        yield* Fiber.interrupt(probe)
        assert.deepStrictEqual(yield* breakers.breakerStates, [{ endpoint: ENDPOINT, state: "half-open" }])
        assert.deepInclude(yield* decide, { source: "provider", attempts: 1 }) // a new probe, not "half-open, probe running"
        assert.deepStrictEqual([yield* breakers.breakerStates, providerCalls()], [[{ endpoint: ENDPOINT, state: "closed" }], 6])
      })))

  it.effect("a throttled reply that trips the breaker keeps it open for the provider's retry-after when longer", () =>
    isolated(() =>
      Effect.gen(function*() {
        const throttled = fail(failWith("throttled", { retryAfterMs: 8000 }))
        const { breakers, decide } = yield* setup(breakerSettings(), [...Array(3).fill(fail(transient)), throttled])
        for (let i = 0; i < 4; i++) yield* decide
        assert.deepStrictEqual(yield* breakers.breakerStates, [{ endpoint: ENDPOINT, state: "open", retryAfterMs: 8000 }])
        yield* TestClock.adjust(5000)
        degradedByBreaker(yield* decide) // still open past breakerOpenMs
      })))

  it.effect("business answers count for the endpoint: binding, pool and bad-input replies never open it", () =>
    isolated(() =>
      Effect.gen(function*() {
        const outcomes = (["binding", "pool", "bad-input", "configuration", "transient", "binding", "pool", "transient"] as const).map((c) => fail(failWith(c)))
        const { breakers, decide } = yield* setup(breakerSettings({ breakerFailureRatio: 0.3 }), outcomes)
        for (let i = 0; i < outcomes.length; i++) yield* decide
        assert.strictEqual((yield* breakers.breakerStates)[0]?.state, "closed") // 2 of 8 failed: 25% < 30%
      })))

  it.effect("breakerOpenMs = 0 turns breakers off", () =>
    isolated(() =>
      Effect.gen(function*() {
        const { breakers, decide, providerCalls } = yield* setup(breakerSettings({ breakerOpenMs: 0 }), Array(10).fill(fail(transient)))
        for (let i = 0; i < 10; i++) yield* decide
        assert.deepStrictEqual([providerCalls(), (yield* breakers.breakerStates).length], [10, 0])
      })))

  it("classification: transient and throttled count against, other replies for, local and interruptions not at all", () => {
    const error = (errorClass: ErrorClass, retryAfterMs?: number) =>
      Exit.fail(new ProviderError({ provider: "aliyun", action: "QueryCallStatus", code: "X", errorClass, message: "", ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }))
    assert.deepStrictEqual(attemptOutcome(Exit.succeed(1)), CircuitBreaker.success)
    assert.strictEqual(attemptOutcome(error("transient"))._tag, "Failure")
    assert.deepStrictEqual(attemptOutcome(error("throttled", 2000)), CircuitBreaker.failure({ retryAfter: 2000 }))
    for (const c of ["binding", "pool", "bad-input", "configuration"] as const) assert.deepStrictEqual(attemptOutcome(error(c)), CircuitBreaker.success)
    assert.deepStrictEqual(attemptOutcome(error("local")), CircuitBreaker.ignored)
    assert.strictEqual(attemptOutcome(Exit.die("bug"))._tag, "Failure")
    assert.isTrue(Cause.hasInterruptsOnly(Cause.interrupt())) // effect itself ignores interrupted attempts
  })
})
