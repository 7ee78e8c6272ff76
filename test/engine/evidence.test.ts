/**
 * The engine on evidence: X health from call outcomes against a status-1 answer, a broken X moved
 * away from (a new binding on another X, or a short second one), bindings moved to the next of
 * PRECALL_REBIND_PROVIDERS when the own provider cannot bind, and requests naming their provider.
 * Providers are scripted in memory; the evidence store is the real one on memory.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { Decision } from "../../src/domain/decision.ts"
import { type ErrorClass, LocalCodes, ProviderError } from "../../src/domain/errors.ts"
import type { Evidence, Verdict } from "../../src/domain/evidence.ts"
import type { DecideRequest } from "../../src/domain/request.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { EvidenceStore, makeEvidenceStore } from "../../src/evidence/EvidenceStore.ts"
import type { OutcomeClass } from "../../src/evidence/classes.ts"
import { settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import { type BindRequest, type BindingRef, type EvidenceProvider, MoreProviders, PrivacyNumberProvider } from "../../src/providers/Provider.ts"
import { noRedis } from "../../src/redis/SharedRedis.ts"

const X = "17000000001"
const A = "13800138000"
const B = "13900139000"

const request = (extra: Partial<Record<keyof DecideRequest, unknown>> = {}): DecideRequest =>
  ({ poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: X, callerNo: A, binding: { phoneNoA: A, phoneNoB: B, mode: "AXB" }, ...extra }) as DecideRequest

interface Recorded {
  readonly binds: Array<BindRequest>
  readonly unbinds: Array<BindingRef>
  evidenceCalls: number
  detailCalls: number
}

/** A provider whose evidence is fixed and whose binds succeed on X numbers 171..., or fail as told. */
const scripted = (
  name: string,
  verdict: Verdict,
  bindFailure?: { readonly code: string; readonly errorClass: ErrorClass },
  detail?: { readonly phoneNoA: string; readonly phoneNoB: string | undefined }
) => {
  const recorded: Recorded = { binds: [], unbinds: [], evidenceCalls: 0, detailCalls: 0 }
  const provider: EvidenceProvider = {
    name,
    endpoint: `fake://${name}`,
    evidence: () =>
      Effect.sync((): Evidence => {
        recorded.evidenceCalls++
        return { verdict, source: `${name} evidence`, requestId: undefined, reusable: false }
      }),
    bindingDetail: (ref) =>
      Effect.suspend(() => {
        recorded.detailCalls++
        return detail === undefined
          ? Effect.fail(new ProviderError({ provider: name, action: "Detail", code: "gone", errorClass: "binding", message: "gone" }))
          : Effect.succeed({ subsId: ref.subsId, ...detail, phoneNoX: ref.phoneNoX, extension: undefined, active: true, requestId: undefined })
      }),
    bind: (r) =>
      Effect.suspend(() => {
        recorded.binds.push(r)
        return bindFailure === undefined
          ? Effect.succeed({ subsId: `${name}-${recorded.binds.length}`, phoneNoX: `1710000000${recorded.binds.length}`, extension: undefined, requestId: undefined })
          : Effect.fail(new ProviderError({ provider: name, action: "Bind", code: bindFailure.code, errorClass: bindFailure.errorClass, message: "no" }))
      }),
    unbind: (ref) => Effect.sync(() => void recorded.unbinds.push(ref))
  }
  return { provider, recorded }
}

const storeOptions = { xFailureThreshold: 3, xFailureWindowS: 600 }

/** Decides with `primary` as the default provider, `more` beside it, and a fresh in-memory evidence store. */
const decideWith = (
  input: SettingsInput,
  primary: EvidenceProvider,
  more: ReadonlyArray<EvidenceProvider>,
  before: (store: EvidenceStore["Service"]) => Effect.Effect<void>,
  req: DecideRequest
): Effect.Effect<Decision> =>
  Effect.gen(function*() {
    const settings = yield* Effect.orDie(settingsFromObject({ maxAttempts: 1, ...input }))
    const store = makeEvidenceStore(storeOptions, noRedis)
    yield* before(store)
    const engine = yield* Effect.service(Engine).pipe(Effect.provide(
      engineLayer(settings).pipe(Layer.provide(Layer.mergeAll(
        Layer.succeed(PrivacyNumberProvider, primary),
        Layer.succeed(MoreProviders, more),
        Layer.succeed(EvidenceStore, store)
      )))
    ))
    return yield* engine.decide(req)
  })

const outcomes = (store: EvidenceStore["Service"], classes: ReadonlyArray<OutcomeClass>) =>
  Effect.forEach(classes, (outcomeClass, i) => store.recordOutcome({ provider: "aliyun", phoneNoX: X, outcomeClass, code: `q850:${i}`, callId: `call-${i}` }), { discard: true })

describe("X health against the evidence", () => {
  it("health never overrides a status-1 answer unless number-class failures reached the threshold", () =>
    fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<OutcomeClass>("number", "callee", "transient", "normal", "other"), { maxLength: 8 }), async (classes) => {
        const { provider, recorded } = scripted("aliyun", { _tag: "UseX", calledNo: X })
        const d = await Effect.runPromise(decideWith({}, provider, [], (store) => outcomes(store, classes), request()))
        const numberFailures = classes.filter((c) => c === "number").length
        if (numberFailures < 3) {
          assert.strictEqual(d.decision, "use-x")
          assert.strictEqual(d.dial, X)
          assert.strictEqual(recorded.binds.length, 0)
        } else {
          assert.strictEqual(d.decision, "rebind")
          assert.notStrictEqual(d.dial, X)
          assert.include(d.reason, `${numberFailures} number-class call failures on X in 10 min`)
          assert.deepStrictEqual(recorded.binds[0]?.avoidX, [X])
          // the status query is not asked: health already decided that X is broken
          assert.strictEqual(recorded.evidenceCalls, 0)
        }
      }),
      { numRuns: 60, seed: 42 }
    ))
})

describe("a broken X", () => {
  it.effect("lasting: a new binding on another X for the same parties, and the old binding is unbound", () =>
    Effect.gen(function*() {
      const { provider, recorded } = scripted("huawei", { _tag: "XBroken", temporary: false })
      const d = yield* decideWith({}, provider, [], () => Effect.void, request({ provider: "huawei" }))
      assert.strictEqual(d.decision, "rebind")
      assert.strictEqual(d.provider, "huawei")
      assert.strictEqual(d.status, 3)
      assert.include(d.reason, "X broken")
      assert.include(d.reason, "huawei evidence")
      assert.deepStrictEqual(recorded.binds.map((b) => [b.phoneNoA, b.phoneNoB, b.mode, b.avoidX, b.temporary]), [[A, B, "AXB", [X], false]])
      assert.deepStrictEqual(recorded.unbinds.map((r) => r.subsId), ["1000000123456789"])
    }))

  it.effect("temporary: a short second binding is dialled as a temporary X and the original binding is kept", () =>
    Effect.gen(function*() {
      const { provider, recorded } = scripted("huawei", { _tag: "XBroken", temporary: true })
      const started = yield* Clock.currentTimeMillis
      const d = yield* decideWith({ temporaryBindingS: 300 }, provider, [], () => Effect.void, request({ provider: "huawei" }))
      assert.strictEqual(d.decision, "use-temporary-x")
      assert.strictEqual(d.status, 2)
      assert.notStrictEqual(d.dial, X)
      assert.isTrue(recorded.binds[0]?.temporary)
      const lifetimeS = (recorded.binds[0]!.expiresAt - started) / 1000
      assert.isTrue(lifetimeS >= 299 && lifetimeS <= 301, `lifetime ${lifetimeS}`)
      assert.deepStrictEqual(recorded.unbinds, [])
    }))

  it.effect("no other X: refuse, or the real callee when the policy allows it", () =>
    Effect.gen(function*() {
      const pool = { code: "1012102", errorClass: "pool" as const }
      const refused = yield* decideWith({}, scripted("huawei", { _tag: "XBroken", temporary: false }, pool).provider, [], () => Effect.void, request({ provider: "huawei" }))
      assert.strictEqual(refused.decision, "refuse")
      assert.strictEqual(refused.providerCode, "1012102")
      const real = yield* decideWith({ allowRealFallback: true }, scripted("huawei", { _tag: "XBroken", temporary: false }, pool).provider, [], () => Effect.void, request({ provider: "huawei" }))
      assert.strictEqual(real.decision, "fallback-real")
      assert.strictEqual(real.dial, B)
    }))
})

describe("the binding's detail wins over the request (issue 8)", () => {
  const STRANGER = "13600136000"

  it.effect("a request claiming AXN cannot make a stranger reach A of an AXB binding", () =>
    Effect.gen(function*() {
      const { provider } = scripted("aliyun", { _tag: "NothingDialable" }, undefined, { phoneNoA: A, phoneNoB: B })
      const d = yield* decideWith({ allowRealFallback: true }, provider, [], () => Effect.void, request({ callerNo: STRANGER, binding: { mode: "AXN" } }))
      assert.strictEqual(d.decision, "refuse")
      assert.notInclude(JSON.stringify(d), A)
      // a party of the binding still reaches the other one
      const fromB = yield* decideWith({ allowRealFallback: true }, provider, [], () => Effect.void, request({ callerNo: B, binding: { mode: "AXN" } }))
      assert.strictEqual(fromB.decision, "fallback-real")
      assert.strictEqual(fromB.dial, A)
    }))

  it.effect("a rebind the request cannot fully describe takes the parties and mode from the detail", () =>
    Effect.gen(function*() {
      const { provider, recorded } = scripted("aliyun", { _tag: "Expired" }, undefined, { phoneNoA: A, phoneNoB: B })
      const d = yield* decideWith({}, provider, [], () => Effect.void, request({ binding: { phoneNoA: A } }))
      assert.strictEqual(d.decision, "rebind")
      assert.deepStrictEqual(recorded.binds.map((b) => [b.phoneNoA, b.phoneNoB, b.mode]), [[A, B, "AXB"]])
    }))
})

describe("PRECALL_REBIND_PROVIDERS", () => {
  const expired: Verdict = { _tag: "Expired" }

  it.effect.each([
    ["an empty pool", "isv.NO_AVAILABLE_NUMBER", "pool"],
    ["an open breaker", LocalCodes.circuitOpen, "local"],
    ["a provider refusing with a transient error", "isp.SYSTEM_ERROR", "transient"]
  ] as const)("%s moves the new binding to the next provider, and the decision says so", ([, code, errorClass]) =>
    Effect.gen(function*() {
      const own = scripted("aliyun", expired, { code, errorClass })
      const other = scripted("huawei", expired)
      const d = yield* decideWith({ rebindProviders: ["huawei"] }, own.provider, [other.provider], () => Effect.void, request())
      assert.strictEqual(d.decision, "rebind")
      assert.strictEqual(d.provider, "huawei")
      assert.strictEqual(d.subsId, "huawei-1")
      assert.include(d.reason, `on huawei (aliyun could not bind: ${code}`)
      assert.deepStrictEqual(other.recorded.binds.map((b) => [b.phoneNoA, b.phoneNoB, b.mode]), [[A, B, "AXB"]])
    }))

  it.effect.each([
    ["a timeout (the binding may exist)", LocalCodes.timeout, "transient"],
    ["bad input", "isv.MOBILE_NUMBER_ILLEGAL", "bad-input"]
  ] as const)("%s does not move: it could make a second binding, or fail the same way", ([, code, errorClass]) =>
    Effect.gen(function*() {
      const own = scripted("aliyun", expired, { code, errorClass })
      const other = scripted("huawei", expired)
      const d = yield* decideWith({ rebindProviders: ["huawei"] }, own.provider, [other.provider], () => Effect.void, request())
      assert.strictEqual(d.decision, "refuse")
      assert.strictEqual(d.provider, "aliyun")
      assert.strictEqual(other.recorded.binds.length, 0)
    }))

  it.effect("a moved binding goes into the other provider's own pool, not the request's", () =>
    Effect.gen(function*() {
      const own = scripted("huawei", expired, { code: "1011003", errorClass: "pool" })
      const other = scripted("aliyun", expired)
      const d = yield* decideWith({ rebindProviders: ["aliyun"] }, own.provider, [{ ...other.provider, rebindPoolKey: "FCALIYUN01" }], () => Effect.void, request({ poolKey: "huawei" }))
      assert.strictEqual(d.provider, "aliyun")
      assert.deepStrictEqual(other.recorded.binds.map((b) => b.poolKey), ["FCALIYUN01"])
      assert.deepStrictEqual(own.recorded.binds.map((b) => b.poolKey), ["huawei"])
    }))

  it.effect("without the setting the binding stays on its provider", () =>
    Effect.gen(function*() {
      const own = scripted("aliyun", expired, { code: "isv.NO_AVAILABLE_NUMBER", errorClass: "pool" })
      const other = scripted("huawei", expired)
      const d = yield* decideWith({}, own.provider, [other.provider], () => Effect.void, request())
      assert.strictEqual(d.decision, "refuse")
      assert.strictEqual(other.recorded.binds.length, 0)
    }))
})

describe("requests name their provider", () => {
  it.effect("each request is decided on the provider it names; none names the default one", () =>
    Effect.gen(function*() {
      const aliyun = scripted("aliyun", { _tag: "UseX" })
      const huawei = scripted("huawei", { _tag: "UseX" })
      const onHuawei = yield* decideWith({}, aliyun.provider, [huawei.provider], () => Effect.void, request({ provider: "huawei" }))
      assert.strictEqual(onHuawei.provider, "huawei")
      assert.include(onHuawei.reason, "huawei evidence")
      assert.deepStrictEqual([aliyun.recorded.evidenceCalls, huawei.recorded.evidenceCalls], [0, 1])
      const byDefault = yield* decideWith({}, aliyun.provider, [huawei.provider], () => Effect.void, request())
      assert.strictEqual(byDefault.provider, "aliyun")
    }))

  it.effect("the engine names its configured providers, the default one first", () =>
    Effect.gen(function*() {
      const settings = yield* Effect.orDie(settingsFromObject({}))
      const engine = yield* Effect.service(Engine).pipe(Effect.provide(
        engineLayer(settings).pipe(Layer.provide(Layer.mergeAll(
          Layer.succeed(PrivacyNumberProvider, scripted("huawei", { _tag: "UseX" }).provider),
          Layer.succeed(MoreProviders, [scripted("aliyun", { _tag: "UseX" }).provider, scripted("tencent", { _tag: "UseX" }).provider])
        )))
      ))
      assert.deepStrictEqual(engine.providers, ["huawei", "aliyun", "tencent"])
    }))

  it.effect("a provider that is not configured is refused, naming the configured ones", () =>
    Effect.gen(function*() {
      const d = yield* decideWith({}, scripted("aliyun", { _tag: "UseX" }).provider, [], () => Effect.void, request({ provider: "huawei" }))
      assert.strictEqual(d.decision, "refuse")
      assert.strictEqual(d.providerCode, "Local.UnknownProvider")
      assert.include(d.reason, "provider huawei is not configured (configured: aliyun)")
    }))
})

describe("properties over verdicts × bind outcomes × policy", () => {
  const verdictArb = fc.oneof(
    fc.constant<Verdict>({ _tag: "UseX" }),
    fc.constant<Verdict>({ _tag: "UseX", calledNo: X }),
    fc.constant<Verdict>({ _tag: "TemporaryX", calledNo: "17000000077" }),
    fc.constant<Verdict>({ _tag: "NothingDialable" }),
    fc.constant<Verdict>({ _tag: "Expired" }),
    fc.boolean().map((temporary): Verdict => ({ _tag: "XBroken", temporary }))
  )
  const bindArb = fc.option(fc.record({
    code: fc.constantFrom("isv.NO_AVAILABLE_NUMBER", LocalCodes.circuitOpen, LocalCodes.timeout, "isv.MOBILE_NUMBER_ILLEGAL"),
    errorClass: fc.constantFrom<ErrorClass>("pool", "local", "transient", "bad-input")
  }), { nil: undefined })

  it("the reason names the evidence, an expired binding or broken X is never dialled, and only an allowed fallback dials a real number", () =>
    fc.assert(
      fc.asyncProperty(verdictArb, bindArb, bindArb, fc.boolean(), fc.boolean(), async (verdict, ownBind, otherBind, allowRealFallback, move) => {
        const own = scripted("aliyun", verdict, ownBind)
        const other = scripted("huawei", verdict, otherBind)
        const d = await Effect.runPromise(decideWith(
          { allowRealFallback, rebindProviders: move ? ["huawei"] : [] }, own.provider, [other.provider], () => Effect.void, request()
        ))
        assert.include(d.reason, "aliyun evidence")
        assert.include(["aliyun", "huawei"], d.provider)
        if (d.provider === "huawei") assert.isTrue(move && own.recorded.binds.length === 1 && other.recorded.binds.length === 1)
        if (verdict._tag === "Expired" || verdict._tag === "XBroken") {
          assert.notStrictEqual(d.dial, X)
          assert.notInclude(["use-x"], d.decision)
        }
        if (d.decision === "fallback-real") {
          assert.isTrue(allowRealFallback)
          assert.strictEqual(d.dial, B)
        } else {
          assert.notInclude(JSON.stringify(d), A)
          assert.notInclude(JSON.stringify(d), B)
        }
        // at most one binding is made (a bind call that succeeded), and only for an expired binding or a broken X
        const made = (ownBind === undefined ? own.recorded.binds.length : 0) + (otherBind === undefined ? other.recorded.binds.length : 0)
        assert.isAtMost(made, 1)
        if (verdict._tag !== "Expired" && verdict._tag !== "XBroken") assert.strictEqual(own.recorded.binds.length + other.recorded.binds.length, 0)
      }),
      { numRuns: 200, seed: 77 }
    ))
})

describe("moving a binding: which providers are asked, and in what order", () => {
  const expired: Verdict = { _tag: "Expired" }
  const pool = { code: "isv.NO_AVAILABLE_NUMBER", errorClass: "pool" as const }

  it.effect("the binding's own provider and providers that are not configured are skipped; the next one gets the request's pool and nothing to avoid", () =>
    Effect.gen(function*() {
      const own = scripted("aliyun", expired, pool)
      const other = scripted("huawei", expired)
      const d = yield* decideWith({ rebindProviders: ["tencent", "aliyun", "huawei"] }, own.provider, [other.provider], () => Effect.void, request())
      assert.strictEqual(d.decision, "rebind")
      assert.strictEqual(d.provider, "huawei")
      assert.strictEqual(own.recorded.binds.length, 1, "the own provider is asked once, not again as a rebind provider")
      assert.deepStrictEqual(other.recorded.binds.map((b) => [b.poolKey, b.avoidX, b.temporary]), [["FC100000000001", [], false]])
    }))

  it.effect("a binding made again on its own provider stays in the request's pool, even when that provider has a rebind pool", () =>
    Effect.gen(function*() {
      const own = scripted("aliyun", expired)
      const d = yield* decideWith({}, { ...own.provider, rebindPoolKey: "FCREBIND01" }, [], () => Effect.void, request())
      assert.strictEqual(d.decision, "rebind")
      assert.deepStrictEqual(own.recorded.binds.map((b) => b.poolKey), ["FC100000000001"])
    }))

  it.effect("a provider that cannot bind hands on to the next; one whose outcome is unknown ends the search", () =>
    Effect.gen(function*() {
      const timeout = { code: LocalCodes.timeout, errorClass: "transient" as const }
      const settings = { rebindProviders: ["huawei", "tencent"] }
      const onThird = scripted("tencent", expired)
      const moved = yield* decideWith(settings, scripted("aliyun", expired, pool).provider, [scripted("huawei", expired, pool).provider, onThird.provider], () => Effect.void, request())
      assert.strictEqual(moved.decision, "rebind")
      assert.strictEqual(moved.provider, "tencent")
      assert.strictEqual(onThird.recorded.binds.length, 1)

      const notAsked = scripted("tencent", expired)
      const stopped = yield* decideWith(settings, scripted("aliyun", expired, pool).provider, [scripted("huawei", expired, timeout).provider, notAsked.provider], () => Effect.void, request())
      assert.strictEqual(stopped.decision, "refuse")
      assert.strictEqual(stopped.provider, "aliyun")
      assert.strictEqual(stopped.providerCode, LocalCodes.timeout)
      assert.include(stopped.reason, "rebind failed: neither aliyun nor huawei could make a new binding")
      assert.strictEqual(notAsked.recorded.binds.length, 0, "a bind that may have happened is not made a second time elsewhere")
    }))

  it.effect("a refused new binding on the own provider says so in the reason", () =>
    Effect.gen(function*() {
      const d = yield* decideWith({}, scripted("aliyun", expired, pool).provider, [], () => Effect.void, request())
      assert.strictEqual(d.decision, "refuse")
      assert.include(d.reason, "rebind failed: the provider refused the new binding: isv.NO_AVAILABLE_NUMBER (pool)")
    }))
})

describe("after the new binding", () => {
  it.effect("an expired binding is not unbound (it is gone already); a broken X's binding is, when the provider can unbind", () =>
    Effect.gen(function*() {
      const expired = scripted("aliyun", { _tag: "Expired" })
      const d = yield* decideWith({}, expired.provider, [], () => Effect.void, request())
      assert.strictEqual(d.decision, "rebind")
      assert.deepStrictEqual(expired.recorded.unbinds, [])
      assert.strictEqual(d.attempts, 2, "the evidence and one Bind, nothing else")

      // a provider without Unbind still moves away from a broken X
      const broken = scripted("huawei", { _tag: "XBroken", temporary: false })
      const { unbind: _, ...withoutUnbind } = broken.provider
      const moved = yield* decideWith({}, withoutUnbind, [], () => Effect.void, request({ provider: "huawei" }))
      assert.strictEqual(moved.decision, "rebind")
      assert.strictEqual(moved.attempts, 2)
    }))

  it.effect("an Unbind whose outcome is unknown is not sent again; one the provider refused is retried; neither changes the decision", () =>
    Effect.gen(function*() {
      const unbindFailingOnce = (code: string) => {
        const broken = scripted("huawei", { _tag: "XBroken", temporary: false })
        const sent: Array<string> = []
        const provider: EvidenceProvider = {
          ...broken.provider,
          unbind: (ref) =>
            Effect.suspend(() => {
              sent.push(ref.subsId)
              return sent.length === 1
                ? Effect.fail(new ProviderError({ provider: "huawei", action: "Unbind", code, errorClass: "transient", message: "" }))
                : Effect.void
            })
        }
        return { provider, sent }
      }
      const unknown = unbindFailingOnce(LocalCodes.timeout)
      // the retry's backoff runs on the TestClock
      const onClock = <A>(effect: Effect.Effect<A>) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(effect)
          yield* TestClock.adjust(1000)
          return yield* Fiber.join(fiber)
        })
      const d = yield* onClock(decideWith({ maxAttempts: 3, retryBaseMs: 1 }, unknown.provider, [], () => Effect.void, request({ provider: "huawei" })))
      assert.strictEqual(d.decision, "rebind")
      assert.strictEqual(unknown.sent.length, 1)
      const refused = unbindFailingOnce("isp.SYSTEM_ERROR")
      const again = yield* onClock(decideWith({ maxAttempts: 3, retryBaseMs: 1 }, refused.provider, [], () => Effect.void, request({ provider: "huawei" })))
      assert.strictEqual(again.decision, "rebind")
      assert.strictEqual(refused.sent.length, 2)
    }))

  it.effect("a new binding is dialled without looking up the real callee, even when fallback is allowed and the caller is a stranger", () =>
    Effect.gen(function*() {
      for (const verdict of [{ _tag: "Expired" }, { _tag: "XBroken", temporary: false }, { _tag: "XBroken", temporary: true }] as const) {
        const { provider, recorded } = scripted("aliyun", verdict, undefined, { phoneNoA: A, phoneNoB: B })
        const d = yield* decideWith({ allowRealFallback: true }, provider, [], () => Effect.void, request({ callerNo: "13600136000" }))
        assert.include(["rebind", "use-temporary-x"], d.decision, verdict._tag)
        assert.strictEqual(recorded.detailCalls, 0, `${verdict._tag}: detail looked up after a successful rebind`)
      }
    }))

  it.effect("request ids: only the ids providers gave, none for calls that returned none (Unbind returns nothing)", () =>
    Effect.gen(function*() {
      const broken = scripted("huawei", { _tag: "XBroken", temporary: false })
      const d = yield* decideWith({}, broken.provider, [], () => Effect.void, request({ provider: "huawei" }))
      assert.strictEqual(broken.recorded.unbinds.length, 1)
      assert.deepStrictEqual(d.requestIds, [])
      assert.isTrue(Schema.is(Decision)(d))
      // a failed Bind without a request id adds none either
      const refused = yield* decideWith({}, scripted("aliyun", { _tag: "Expired" }, { code: "isv.NO_AVAILABLE_NUMBER", errorClass: "pool" }).provider, [], () => Effect.void, request())
      assert.deepStrictEqual(refused.requestIds, [])
      assert.isTrue(Schema.is(Decision)(refused))
    }))
})

describe("a provider that is not configured", () => {
  it.effect("is refused at once with every configured provider named and no provider call", () =>
    Effect.gen(function*() {
      const aliyun = scripted("aliyun", { _tag: "UseX" })
      const huawei = scripted("huawei", { _tag: "UseX" })
      const d = yield* decideWith({}, aliyun.provider, [huawei.provider], () => Effect.void, request({ provider: "tencent" }))
      assert.deepStrictEqual(d, {
        decision: "refuse", dial: null, extension: null, subsId: null, provider: "tencent", poolKey: "FC100000000001", status: null,
        source: "degraded", providerCode: "Local.UnknownProvider", attempts: 0, elapsedMs: 0, requestIds: [],
        reason: "provider tencent is not configured (configured: aliyun, huawei); refused"
      })
      assert.deepStrictEqual([aliyun.recorded.evidenceCalls, huawei.recorded.evidenceCalls], [0, 0])
    }))
})
