/** The audit decorator over an in-memory store: what is recorded, what is never, and what a failed write turns into. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Logger, Metric } from "effect"
import { TestClock } from "effect/testing"
import { auditedEngineLayer, auditFailuresTotal, CurrentRequest, exposuresAuditedTotal } from "../../src/audit/audited.ts"
import { AuditStoreError, ExposureStore } from "../../src/audit/ExposureStore.ts"
import { makeMemoryStore } from "../../src/audit/memoryStore.ts"
import { makeNumberHasher, searchableNumber } from "../../src/audit/record.ts"
import { Engine } from "../../src/engine/Engine.ts"
import { auditSettings, fallbackReal, HASH_SECRET, REAL, request, scriptedEngine, useX } from "./support.ts"
import type { Decision } from "../../src/domain/decision.ts"

const audited = (store: Layer.Layer<ExposureStore>, next: () => Decision, timeoutMs = 300) =>
  Layer.unwrap(Effect.map(auditSettings({ auditTimeoutMs: timeoutMs }), (s) =>
    auditedEngineLayer(s).pipe(Layer.provide(scriptedEngine(next)), Layer.provide(store))))

const failing = (reason: AuditStoreError["reason"]) =>
  Layer.succeed(ExposureStore, ExposureStore.of({
    kind: "postgres", where: "test",
    append: () => Effect.fail(new AuditStoreError({ reason, store: "postgres", message: `down while writing ${REAL}` })),
    query: () => Effect.die("not used")
  }))

const hanging = Layer.succeed(ExposureStore, ExposureStore.of({ kind: "postgres", where: "test", append: () => Effect.never, query: () => Effect.die("not used") }))

const failures = (store: string, reason: string) =>
  Effect.map(Metric.value(Metric.withAttributes(auditFailuresTotal, { store, reason })), (s) => s.count)

describe("the exposure audit decorator", () => {
  it.effect("a fallback-real is returned after its record, which holds the number masked and hashed only, with the request id and key id", () =>
    Effect.gen(function*() {
      const { store, records } = makeMemoryStore()
      const engine = yield* Effect.service(Engine).pipe(Effect.provide(audited(Layer.succeed(ExposureStore, store), () => fallbackReal())))
      yield* TestClock.setTime(Date.parse("2026-12-04T06:00:00.000Z"))
      const d = yield* engine.decide(request).pipe(Effect.provideService(CurrentRequest, { requestId: "req-42", apiKeyId: "k_0123456789ab" }))
      assert.strictEqual(d.decision, "fallback-real")
      assert.strictEqual(d.dial, REAL)
      assert.strictEqual(records.length, 1)
      const r = records[0]!
      assert.deepStrictEqual(
        { ...r, realNumberHash: r.realNumberHash.length },
        {
          id: 1, at: "2026-12-04T06:00:00.000Z", requestId: "req-42", apiKeyId: "k_0123456789ab", provider: "fake",
          poolKey: "FC100000000001", subsId: "1000000000000001", phoneNoX: "17000000000",
          realNumberMasked: "****9000", realNumberHash: 64,
          policy: { allowRealFallback: true, degradedDecision: "use-x" },
          evidence: { source: "provider", status: 3, providerCode: null, reason: fallbackReal().reason, providerRequestIds: ["r-1"] }
        }
      )
      assert.strictEqual(r.realNumberHash, makeNumberHasher(HASH_SECRET).hash(REAL))
      assert.strictEqual((yield* Metric.value(Metric.withAttributes(exposuresAuditedTotal, { store: "memory" }))).count, 1)
      assert.notInclude(JSON.stringify(records), REAL)
      assert.notInclude(JSON.stringify(records), REAL.slice(0, 7))
    }))

  it.effect("outside the service the request id and key id are null", () =>
    Effect.gen(function*() {
      const { store, records } = makeMemoryStore()
      const engine = yield* Effect.service(Engine).pipe(Effect.provide(audited(Layer.succeed(ExposureStore, store), () => fallbackReal())))
      yield* engine.decide(request)
      assert.deepStrictEqual([records[0]!.requestId, records[0]!.apiKeyId], [null, null])
    }))

  it.effect("other decisions pass through and write nothing", () =>
    Effect.gen(function*() {
      const { store, records } = makeMemoryStore()
      const engine = yield* Effect.service(Engine).pipe(Effect.provide(audited(Layer.succeed(ExposureStore, store), () => useX)))
      assert.deepStrictEqual(yield* engine.decide(request), useX)
      assert.strictEqual(records.length, 0)
    }))

  it.effect("a failed write: refuse instead, counted, and the warning names no number", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const before = yield* failures("postgres", "Unavailable")
      const engine = yield* Effect.service(Engine).pipe(Effect.provide(audited(failing("Unavailable"), () => fallbackReal())))
      const d = yield* engine.decide(request).pipe(Effect.provide(Logger.layer([Logger.make(({ message }) => lines.push(JSON.stringify(message)))])))
      assert.deepStrictEqual([d.decision, d.dial, d.subsId, d.status, d.source], ["refuse", null, null, 3, "provider"])
      assert.match(d.reason, /no X can carry the call; refused: the exposure audit could not record a real-number fallback \(postgres Unavailable\)$/)
      assert.strictEqual((yield* failures("postgres", "Unavailable")) - before, 1)
      assert.strictEqual(lines.length, 1)
      assert.include(lines[0]!, "exposure audit failed")
      assert.notInclude(lines.join("\n"), REAL)
      assert.notInclude(JSON.stringify(d), REAL)
    }))

  it.effect("no answer from the store within PRECALL_AUDIT_TIMEOUT_MS: refuse, on the TestClock", () =>
    Effect.gen(function*() {
      const before = yield* failures("postgres", "Timeout")
      const engine = yield* Effect.service(Engine).pipe(Effect.provide(audited(hanging, () => fallbackReal(), 250)))
      const fiber = yield* Effect.forkChild(engine.decide(request))
      yield* TestClock.adjust("249 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const d = yield* Fiber.join(fiber)
      assert.strictEqual(d.decision, "refuse")
      assert.include(d.reason, "(postgres Timeout)")
      assert.strictEqual((yield* failures("postgres", "Timeout")) - before, 1)
    }))
})

describe("the number hash", () => {
  it("is the same for every spelling of a number, differs between numbers and between secrets", () => {
    const h = makeNumberHasher(HASH_SECRET)
    assert.strictEqual(h.hash("+86 139-0013-9000"), h.hash(REAL))
    assert.strictEqual(h.hash("8613900139000"), h.hash(REAL))
    assert.notStrictEqual(h.hash("13900139001"), h.hash(REAL))
    assert.notStrictEqual(makeNumberHasher(`${HASH_SECRET}x`).hash(REAL), h.hash(REAL))
    assert.match(h.hash(REAL), /^[0-9a-f]{64}$/)
  })

  it("searchable numbers are phone numbers only", () => {
    assert.strictEqual(searchableNumber("+86 139 0013 9000"), REAL)
    assert.isUndefined(searchableNumber("12345"))
    assert.isUndefined(searchableNumber("abc"))
  })
})
