/**
 * The engine's two optional services, provided through their own layers: a DecisionSharing
 * (decisionSharingLayer) whose reusable answer spares the provider call, and a ProviderGuard
 * (providerGuardLayer) that stands between the engine and every attempt.
 */
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { ProviderError } from "../../src/domain/errors.ts"
import type { DecideRequest } from "../../src/domain/request.ts"
import { decisionSharingLayer, noSharing } from "../../src/engine/DecisionSharing.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { type GuardedCall, providerGuardLayer } from "../../src/engine/ProviderGuard.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { PrivacyNumberProvider } from "../../src/providers/Provider.ts"
import { EvidenceStore, makeEvidenceStore } from "../../src/evidence/EvidenceStore.ts"
import { noRedis } from "../../src/redis/SharedRedis.ts"
import { makeFakeProvider, ok, script } from "./fakeProvider.ts"

const X = "17000000001"
const request = { poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: X } as DecideRequest

const decideWith = (extra: Layer.Layer<never>) =>
  Effect.gen(function*() {
    const settings = yield* Effect.orDie(settingsFromObject({ maxAttempts: 1, deadlineMs: 1000 }))
    const { log, provider } = makeFakeProvider(script({ status: [ok({ status: 1, calledNo: X, extension: undefined })] }))
    const engine = yield* Effect.service(Engine).pipe(Effect.provide(
      engineLayer(settings).pipe(Layer.provide(Layer.succeed(PrivacyNumberProvider, provider)), Layer.provide(extra))
    ))
    return { decision: yield* engine.decide(request), providerCalls: log.length }
  })

it.effect("a sharing provided through decisionSharingLayer is used: its reusable answer decides without a provider call", () =>
  Effect.gen(function*() {
    const { decision, providerCalls } = yield* decideWith(decisionSharingLayer({
      ...noSharing,
      cachedStatus: () => Effect.succeed({ status: 1, calledNo: X, extension: undefined, requestId: "cached" })
    }))
    assert.deepInclude(decision, { decision: "use-x", source: "cache", attempts: 0 })
    assert.strictEqual(providerCalls, 0)
  }))

it.effect("a guard provided through providerGuardLayer sees every attempt, and its refusal is the decision's failure", () =>
  Effect.gen(function*() {
    const seen: Array<GuardedCall> = []
    const { decision, providerCalls } = yield* decideWith(providerGuardLayer({
      run: (call) =>
        Effect.suspend(() => {
          seen.push(call)
          return Effect.fail(new ProviderError({ provider: call.provider, action: call.action, code: "Local.CircuitOpen", errorClass: "local", message: "open" }))
        })
    }))
    // the first attempt has the whole deadline left (deadlineMs 1000, nothing spent yet on the TestClock)
    assert.deepStrictEqual(seen.map((c) => [c.provider, c.endpoint, c.action, c.budgetMs]), [["fake", "fake://provider", "QueryCallStatus", 1000]])
    assert.deepInclude(decision, { source: "degraded", providerCode: "Local.CircuitOpen" })
    assert.strictEqual(providerCalls, 0)
  }))

it.effect("with a reusable answer at hand, an X health check that outlasts the deadline still ends in a degraded decision at the deadline", () =>
  Effect.gen(function*() {
    const store = makeEvidenceStore({ xFailureThreshold: 3, xFailureWindowS: 600 }, noRedis)
    const slowHealth = Layer.succeed(EvidenceStore, { ...store, xHealth: (p: string, x: string) => Effect.andThen(Effect.sleep(5000), store.xHealth(p, x)) })
    const sharing = decisionSharingLayer({
      ...noSharing,
      cachedStatus: () => Effect.succeed({ status: 1 as const, calledNo: X, extension: undefined, requestId: "cached" })
    })
    const fiber = yield* Effect.forkChild(decideWith(Layer.mergeAll(sharing, slowHealth)))
    yield* TestClock.adjust(1000)
    const { decision, providerCalls } = yield* Fiber.join(fiber)
    assert.deepInclude(decision, { decision: "use-x", source: "degraded", status: null, elapsedMs: 1000 })
    assert.include(decision.reason, "within the deadline")
    assert.strictEqual(providerCalls, 0)
  }))
