/**
 * One test per bug the suite once let through (issue 8 §5), each on the TestClock against the
 * scripted provider. Every test here fails with its bug put back:
 * - a Bind retried after a timeout, a reset or an unreadable reply (a second binding made);
 * - the deadline counted from after the status-cache lookup instead of from arrival;
 * - the rate-limit/breaker guard given the whole deadline instead of the time left;
 * - a coalesced waiter deciding with the whole deadline instead of its own budget;
 * - status 3 dialling a calledNo the provider sent anyway;
 * - providerCode of a status 1-3 decision taken from an earlier failed attempt.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { LocalCodes } from "../../src/domain/errors.ts"
import type { DecideRequest } from "../../src/domain/request.ts"
import { DecisionSharing, noSharing } from "../../src/engine/DecisionSharing.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { type GuardedCall, ProviderGuard } from "../../src/engine/ProviderGuard.ts"
import { type Settings, settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import { PrivacyNumberProvider, type ProviderShape } from "../../src/providers/Provider.ts"
import { fail, failWith, hang, makeFakeProvider, ok, type Script, script } from "./fakeProvider.ts"

const X = "17000000001"
const A = "13800138000"
const B = "13900139000"
const request = {
  poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: X, callerNo: A, binding: { phoneNoA: A, phoneNoB: B, mode: "AXB" }
} as unknown as DecideRequest
const settingsOf = (input: SettingsInput): Settings => Effect.runSync(settingsFromObject({ retryBaseMs: 10, ...input }))

/** The engine over `provider`, with optional sharing and guard hooks, as the composition root builds it. */
const engineWith = (settings: Settings, provider: ProviderShape, hooks: Layer.Layer<never> = Layer.empty) =>
  Effect.service(Engine).pipe(Effect.provide(engineLayer(settings).pipe(Layer.provide(Layer.succeed(PrivacyNumberProvider, provider)), Layer.provide(hooks))))

/** Decides on a forked fiber and moves the TestClock by `advanceMs`; the decision must be there by then. */
const decideWithin = (settings: Settings, sc: Script, advanceMs: number, hooks?: Layer.Layer<never>) =>
  Effect.gen(function*() {
    const { log, provider } = makeFakeProvider(sc)
    const engine = yield* engineWith(settings, provider, hooks)
    const fiber = yield* Effect.forkChild(engine.decide(request))
    yield* TestClock.adjust(advanceMs)
    yield* Effect.yieldNow
    const exit = fiber.pollUnsafe()
    assert.isDefined(exit, `no decision after ${advanceMs} ms`)
    return { decision: yield* Fiber.join(fiber), log }
  })

describe("a Bind is never sent twice", () => {
  for (const code of [LocalCodes.timeout, LocalCodes.connection, LocalCodes.malformed, LocalCodes.httpStatus(502)]) {
    it.effect(`after ${code} with time left, no second Bind: the first may have made a binding`, () =>
      Effect.gen(function*() {
        const settings = settingsOf({ deadlineMs: 3000, attemptTimeoutMs: 200, maxAttempts: 3 })
        const { decision, log } = yield* decideWithin(settings, script({ status: [ok({ status: 4, calledNo: undefined, extension: undefined })], bind: [fail(failWith("transient", { code }))] }), 3000)
        assert.strictEqual(log.filter((c) => c.action === "Bind").length, 1)
        assert.notStrictEqual(decision.decision, "use-x")
      }))
  }

  it.effect("a Bind that times out per attempt with most of the deadline left is not retried", () =>
    Effect.gen(function*() {
      const settings = settingsOf({ deadlineMs: 3000, attemptTimeoutMs: 200, maxAttempts: 3 })
      const { log } = yield* decideWithin(settings, script({ status: [ok({ status: 4, calledNo: undefined, extension: undefined })], bind: [hang, hang, hang] }), 3000)
      const binds = log.filter((c) => c.action === "Bind")
      assert.strictEqual(binds.length, 1)
      assert.isBelow(binds[0]!.start, 1000, "the Bind went out early, so time was left for a retry")
    }))
})

describe("budgets count from arrival", () => {
  it.effect("a slow status-cache lookup eats into the deadline, it does not extend it", () =>
    Effect.gen(function*() {
      const settings = settingsOf({ deadlineMs: 1000, attemptTimeoutMs: 300, maxAttempts: 5 })
      const slowCache = Layer.succeed(DecisionSharing, { ...noSharing, cachedStatus: () => Effect.as(Effect.sleep(400), undefined) })
      const { decision } = yield* decideWithin(settings, script({ status: [hang, hang, hang, hang, hang] }), 1000, slowCache)
      assert.strictEqual(decision.source, "degraded")
      assert.isAtMost(decision.elapsedMs, 1000)
    }))

  it.effect("the guard is given the time left of the deadline, not the whole deadline", () =>
    Effect.gen(function*() {
      const budgets: Array<number> = []
      const recording = Layer.succeed(ProviderGuard, {
        run: (call: GuardedCall, attempt) => Effect.andThen(Effect.sync(() => budgets.push(call.budgetMs)), attempt)
      })
      const settings = settingsOf({ deadlineMs: 1000, attemptTimeoutMs: 300, maxAttempts: 3 })
      yield* decideWithin(settings, script({ status: [fail(failWith("transient"), 400), fail(failWith("transient"), 200), ok({ status: 1, calledNo: X, extension: undefined })] }), 1000, recording)
      assert.isAtLeast(budgets.length, 2)
      assert.isAtMost(budgets[0]!, 1000)
      for (const later of budgets.slice(1)) assert.isAtMost(later, 1000 - 300, `a retry's guard got ${later} ms of a 1000 ms deadline after 300+ ms had passed`)
    }))

  it.effect("a coalesced waiter that decides itself gets what is left of its own budget", () =>
    Effect.gen(function*() {
      const given: Array<number> = []
      // a sharing hook that makes the request wait 600 ms for a flight that then gives up
      const waited = Layer.succeed(DecisionSharing, {
        ...noSharing,
        coalesce: (_key, budgetMs, decide) =>
          Effect.gen(function*() {
            const start = yield* Clock.currentTimeMillis
            yield* Effect.sleep(600)
            const left = budgetMs - ((yield* Clock.currentTimeMillis) - start)
            given.push(left)
            return yield* decide(left)
          })
      })
      const settings = settingsOf({ deadlineMs: 1000, attemptTimeoutMs: 300, maxAttempts: 5 })
      const { decision, log } = yield* decideWithin(settings, script({ status: [hang, hang, hang, hang, hang] }), 1000, waited)
      assert.deepStrictEqual(given, [400])
      assert.isAtMost(decision.elapsedMs, 1000)
      // with 400 ms left and 300 ms attempts, no attempt may start after the deadline
      for (const call of log) assert.isBelow(call.start, 1000)
    }))
})

describe("what a decision says", () => {
  it.effect("status 3 never dials the calledNo the provider sent anyway", () =>
    Effect.gen(function*() {
      const settings = settingsOf({ deadlineMs: 1000 })
      const { decision } = yield* decideWithin(settings, script({ status: [ok({ status: 3, calledNo: "17099999999", extension: undefined })] }), 1000)
      assert.strictEqual(decision.decision, "refuse")
      assert.notInclude(JSON.stringify(decision), "17099999999")
    }))

  it.effect("providerCode of an answered decision is not an earlier attempt's failure", () =>
    Effect.gen(function*() {
      const settings = settingsOf({ deadlineMs: 1000, maxAttempts: 3 })
      const { decision } = yield* decideWithin(settings, script({ status: [fail(failWith("transient")), ok({ status: 1, calledNo: X, extension: undefined })] }), 1000)
      assert.strictEqual(decision.decision, "use-x")
      assert.strictEqual(decision.attempts, 2)
      assert.isNull(decision.providerCode)
    }))
})
