/**
 * Aliyun's evidence table (pure), and the adapter's choice of source in `auto` mode against the
 * emulator: QueryCallStatus until the endpoint says it does not serve it, then derived, asking again
 * once per probe interval (TestClock: the request signatures carry its time, so the emulator skips
 * their checks here; test/aliyun/signature.test.ts covers them).
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Redacted } from "effect"
import type { HttpClient } from "effect/http"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { statusOf } from "../../src/domain/evidence.ts"
import { startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { derivedEvidence, type SecretStatusFact, type SubscriptionFact } from "../../src/providers/aliyun/evidence.ts"
import { makeAliyunProvider, type StatusSource } from "../../src/providers/aliyun/provider.ts"

const xArb = fc.constantFrom("17000000001", "17000000002")
const bindingArb: fc.Arbitrary<SubscriptionFact> = fc.oneof(
  fc.record({ _tag: fc.constant("Found" as const), status: fc.integer({ min: -1, max: 3 }), phoneNoX: xArb, extension: fc.constantFrom(undefined, "12") }),
  fc.record({ _tag: fc.constant("Gone" as const), code: fc.constantFrom("isv.SUBS_NOT_EXIST", "isv.NO_NOT_EXIST") })
)
const secretArb: fc.Arbitrary<SecretStatusFact> = fc.option(fc.integer({ min: -1, max: 5 }), { nil: undefined })
const RUNS = { numRuns: 300, seed: 20261204 }

describe("derived evidence table", () => {
  it("a binding that is gone or not in effect is expired, whatever the X says", () =>
    fc.assert(fc.property(bindingArb, secretArb, (binding, secret) => {
      const e = derivedEvidence(binding, secret, "r")
      if (binding._tag === "Gone" || binding.status !== 1) {
        assert.strictEqual(e.verdict._tag, "Expired")
        assert.strictEqual(statusOf(e.verdict), 4)
        assert.include(e.source, "binding query")
      }
    }), RUNS))

  it("an X locked (2) or frozen (3) under a binding in effect is broken, never dialled", () =>
    fc.assert(fc.property(bindingArb, secretArb, (binding, secret) => {
      const e = derivedEvidence(binding, secret, "r")
      if (binding._tag === "Found" && binding.status === 1 && (secret === 2 || secret === 3)) {
        assert.deepStrictEqual(e.verdict, { _tag: "XBroken", temporary: false })
        assert.include(e.source, `SecretStatus ${secret}`)
      }
    }), RUNS))

  it("use-x only for a binding in effect on an X that is bound or of unknown state, and only that is reusable", () =>
    fc.assert(fc.property(bindingArb, secretArb, (binding, secret) => {
      const e = derivedEvidence(binding, secret, "r")
      const usable = binding._tag === "Found" && binding.status === 1 && secret !== 0 && secret !== 2 && secret !== 3
      assert.strictEqual(e.verdict._tag === "UseX", usable)
      assert.strictEqual(e.reusable, usable)
      if (e.verdict._tag === "UseX" && binding._tag === "Found") assert.strictEqual(e.verdict.calledNo, binding.phoneNoX)
    }), RUNS))

  it("the source always names the binding query, and the X state when it was had", () =>
    fc.assert(fc.property(bindingArb, secretArb, (binding, secret) => {
      const e = derivedEvidence(binding, secret, "r")
      assert.match(e.source, /^binding query: /)
      if (binding._tag === "Found" && binding.status === 1) assert.include(e.source, secret === undefined ? "X state unknown" : `SecretStatus ${secret}`)
    }), RUNS))
})

describe("status source", () => {
  const A = "13800138000"
  const B = "13900139000"
  const POOL = "FC100000000001"

  const withProvider = <A>(source: StatusSource, body: (p: {
    readonly evidence: (subsId: string, x: string) => Effect.Effect<string>
    readonly asked: () => number
    readonly emulator: Awaited<ReturnType<typeof startAliyunEmulator>>
  }) => Effect.Effect<A, never, HttpClient.HttpClient>) =>
    Effect.gen(function*() {
      const emulator = yield* Effect.acquireRelease(Effect.promise(() => startAliyunEmulator({ withoutQueryCallStatus: true, verifySignatures: false })), (e) => Effect.promise(() => e.close()))
      const provider = yield* makeAliyunProvider({
        endpoint: emulator.url, signature: "v3", statusSource: source, statusProbeMs: 600_000,
        credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: Redacted.make(emulator.accessKeySecret) }
      })
      return yield* body({
        evidence: (subsId, x) => Effect.map(Effect.orDie(provider.evidence({ poolKey: POOL, subsId, phoneNoX: x, callerNo: A })), (e) => `${e.verdict._tag}: ${e.source}`),
        asked: () => emulator.stats().actions["QueryCallStatus"]?.requests ?? 0,
        emulator
      })
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

  it.effect("auto: one NotFound, then derived until the probe interval has passed; served again, QueryCallStatus again", () =>
    withProvider("auto", ({ evidence, asked, emulator }) =>
      Effect.gen(function*() {
        const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 3600 })
        assert.strictEqual(yield* evidence(b.subsId, b.phoneNoX), "UseX: binding query: in effect; X bound (SecretStatus 1)")
        assert.strictEqual(asked(), 1)
        for (let i = 0; i < 3; i++) yield* evidence(b.subsId, b.phoneNoX)
        assert.strictEqual(asked(), 1, "remembered: not asked again within the interval")
        yield* TestClock.adjust("599 seconds")
        yield* evidence(b.subsId, b.phoneNoX)
        assert.strictEqual(asked(), 1)
        yield* TestClock.adjust("1 second")
        yield* evidence(b.subsId, b.phoneNoX)
        assert.strictEqual(asked(), 2, "probed once the interval passed")
        emulator.setServed("QueryCallStatus", true)
        yield* TestClock.adjust("600 seconds")
        assert.strictEqual(yield* evidence(b.subsId, b.phoneNoX), "UseX: QueryCallStatus")
        yield* evidence(b.subsId, b.phoneNoX)
        assert.strictEqual(asked(), 4, "served again: asked every time")
      })))

  it.effect("derived never asks QueryCallStatus; query never derives", () =>
    Effect.gen(function*() {
      yield* withProvider("derived", ({ evidence, asked, emulator }) =>
        Effect.gen(function*() {
          emulator.setServed("QueryCallStatus", true)
          const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 3600 })
          assert.match(yield* evidence(b.subsId, b.phoneNoX), /^UseX: binding query/)
          assert.strictEqual(asked(), 0)
        }))
      yield* withProvider("query", ({ asked, emulator }) =>
        Effect.gen(function*() {
          const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 3600 })
          const provider = yield* makeAliyunProvider({
            endpoint: emulator.url, signature: "v3", statusSource: "query",
            credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: Redacted.make(emulator.accessKeySecret) }
          })
          const failed = yield* Effect.orDie(Effect.flip(provider.evidence({ poolKey: POOL, subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: A })))
          assert.strictEqual(failed.code, "InvalidAction.NotFound")
          assert.strictEqual(failed.errorClass, "configuration")
          assert.strictEqual(asked(), 1)
        }))
    }))

  it.effect("derived: expired binding, locked and frozen X, unbound X", () =>
    withProvider("derived", ({ evidence, emulator }) =>
      Effect.gen(function*() {
        const b = emulator.createBinding({ mode: "AXB", phoneNoA: A, phoneNoB: B, ttlSeconds: 60 })
        emulator.setSecretStatus(b.phoneNoX, 2)
        assert.strictEqual(yield* evidence(b.subsId, b.phoneNoX), "XBroken: binding query: in effect; X locked (SecretStatus 2)")
        emulator.setSecretStatus(b.phoneNoX, 3)
        assert.strictEqual(yield* evidence(b.subsId, b.phoneNoX), "XBroken: binding query: in effect; X frozen (SecretStatus 3)")
        emulator.setSecretStatus(b.phoneNoX, null)
        emulator.advanceClock(120)
        assert.strictEqual(yield* evidence(b.subsId, b.phoneNoX), "Expired: binding query: expired (Status 0)")
        assert.strictEqual(yield* evidence("9999999999", b.phoneNoX), "Expired: binding query: isv.SUBS_NOT_EXIST")
      })))
})
