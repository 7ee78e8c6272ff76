/**
 * Outcome reports: validation, classification (Q.850, a provider's hang-up table), X health crossing
 * the threshold, and the bounded call-state polling on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { classifyForwardedQ850, classifyQ850 } from "../../src/evidence/classes.ts"
import { classifyHuaweiStateCode } from "../../src/providers/huawei/stateCodes.ts"
import { EvidenceStore, makeEvidenceStore } from "../../src/evidence/EvidenceStore.ts"
import {
  type CallState,
  CallStateSource,
  CallStateUnavailable,
  callStatePolling,
  type InvalidOutcome,
  Outcomes,
  outcomesLayer,
  reportOutcome,
  StateCodeTables
} from "../../src/evidence/outcomes.ts"
import { noRedis } from "../../src/redis/SharedRedis.ts"

const X = "17000000001"
const base = { provider: "huawei", subsId: "sub-1", phoneNoX: X } as const

const withOutcomes = <A, E>(body: Effect.Effect<A, E, Outcomes | EvidenceStore>, extra: Layer.Layer<never> = Layer.empty) => {
  const store = Layer.succeed(EvidenceStore, makeEvidenceStore({ xFailureThreshold: 3, xFailureWindowS: 600 }, noRedis))
  return Effect.provide(body, outcomesLayer.pipe(Layer.provideMerge(store), Layer.provide(extra)))
}

const health = Effect.flatMap(EvidenceStore, (s) => s.xHealth("huawei", X))

describe("outcome reports", () => {
  it.effect("three number-class Q.850 outcomes on an X cross the threshold; callee ones never do", () =>
    withOutcomes(Effect.gen(function*() {
      for (let i = 0; i < 10; i++) {
        const r = yield* reportOutcome({ ...base, q850: 17 })
        assert.deepStrictEqual(r, { outcomeClass: "callee", marksX: false, pending: false })
      }
      assert.isFalse((yield* health).unhealthy)
      for (const q850 of [1, 28]) yield* reportOutcome({ ...base, q850 })
      assert.isFalse((yield* health).unhealthy)
      const third = yield* reportOutcome({ ...base, phoneNoX: `+86${X}`, q850: 3 })
      assert.deepStrictEqual(third, { outcomeClass: "number", marksX: true, pending: false })
      assert.deepInclude(yield* health, { unhealthy: true, numberFailures: 3 })
      assert.deepStrictEqual((yield* Effect.flatMap(EvidenceStore, (s) => s.lastCall("huawei", "sub-1")))?.code, "q850:3")
    })))

  it.effect("the same call reported twice (a client retry) counts once", () =>
    withOutcomes(Effect.gen(function*() {
      for (let i = 0; i < 3; i++) yield* reportOutcome({ ...base, q850: 1, callSerialNo: "call-1" })
      assert.deepInclude(yield* health, { unhealthy: false, numberFailures: 1 })
    })))

  it.effect("a hang-up code goes through its provider's table; a provider without one is told to send Q.850", () =>
    withOutcomes(
      Effect.gen(function*() {
        const r = yield* reportOutcome({ ...base, stateCode: 8055 })
        assert.deepStrictEqual(r, { outcomeClass: "number", marksX: true, pending: false })
        assert.deepStrictEqual((yield* reportOutcome({ ...base, stateCode: 8102 })).outcomeClass, "callee")
        const e = yield* Effect.flip(reportOutcome({ ...base, provider: "aliyun", stateCode: 8055 }))
        assert.deepStrictEqual(e.issues, [{ path: "stateCode", message: "aliyun has no hang-up code table; send q850 instead" }])
      }),
      Layer.succeed(StateCodeTables, { huawei: (code) => (code === 8055 ? "number" : code === 8102 ? "callee" : "other") })
    ))

  it.effect("bad reports are typed errors naming every problem, and record nothing", () =>
    withOutcomes(Effect.gen(function*() {
      const bad = yield* Effect.flip(reportOutcome({ provider: "nokia", subsId: "", phoneNoX: "12", q850: 300, extra: 1 }))
      assert.strictEqual(bad._tag, "InvalidOutcome")
      assert.includeMembers(bad.issues.map((i) => i.path), ["provider", "subsId", "phoneNoX", "q850", "extra"])
      const empty: InvalidOutcome = yield* Effect.flip(reportOutcome(base))
      assert.match(empty.message, /q850, stateCode, or callSerialNo/)
      const noSource = yield* Effect.flip(reportOutcome({ ...base, callSerialNo: "c-1" }))
      assert.deepStrictEqual(noSource.issues.map((i) => i.path), ["callSerialNo"])
      assert.deepStrictEqual((yield* health).counts, { number: 0, callee: 0, transient: 0, normal: 0, other: 0 })
    })))
})

/** A call-state source that answers from a script, one answer per query, the last one repeated. */
const scripted = (answers: ReadonlyArray<CallState | "down">) => {
  let queries = 0
  const layer = Layer.succeed(CallStateSource, {
    query: () =>
      Effect.suspend(() => {
        const a = answers[Math.min(queries++, answers.length - 1)]!
        return a === "down" ? Effect.fail(new CallStateUnavailable({ reason: "HTTP 500" })) : Effect.succeed(a)
      })
  })
  return { layer, queries: () => queries }
}
const running: CallState = { ended: false, outcomeClass: undefined, code: "state:2" }

describe("call state by serial number", () => {
  it.effect("polls until the call has ended, then records its class", () => {
    const source = scripted([running, "down", { ended: true, outcomeClass: "number", code: "reasonCode:1" }])
    return withOutcomes(
      Effect.gen(function*() {
        const r = yield* reportOutcome({ ...base, callSerialNo: "serial-9" })
        assert.deepStrictEqual(r, { outcomeClass: null, marksX: false, pending: true })
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual((yield* health).numberFailures, 0, "still running")
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(source.queries(), 3)
        assert.strictEqual((yield* health).numberFailures, 1)
        assert.strictEqual((yield* Effect.flatMap(EvidenceStore, (s) => s.lastCall("huawei", "sub-1")))?.code, "reasonCode:1")
      }),
      source.layer
    )
  })

  it.effect("a call that never ends is given up after the bounded schedule, recording nothing", () => {
    const source = scripted([running])
    return withOutcomes(
      Effect.gen(function*() {
        yield* reportOutcome({ ...base, callSerialNo: "serial-10" })
        yield* TestClock.adjust("10 minutes")
        assert.strictEqual(source.queries(), callStatePolling.times)
        assert.strictEqual((yield* health).counts.normal + (yield* health).counts.number, 0)
      }),
      source.layer
    )
  })

  it.effect("a poll in flight is interrupted with the layer (nothing outlives the service)", () => {
    const source = scripted([running])
    return Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(withOutcomes(Effect.andThen(reportOutcome({ ...base, callSerialNo: "s" }), Effect.never), source.layer))
      yield* TestClock.adjust("3 seconds")
      yield* Fiber.interrupt(fiber)
      const before = source.queries()
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(source.queries(), before)
    })
  })
})

describe("the neutral Q.850 table", () => {
  it("classes per shared/providers/huawei.md §5", () => {
    assert.deepStrictEqual([1, 3, 4, 5, 22, 28].map(classifyQ850), Array(6).fill("number"))
    assert.deepStrictEqual([17, 18, 19, 20, 21, 26].map(classifyQ850), Array(6).fill("callee"))
    assert.deepStrictEqual([16, 31, 0].map(classifyQ850), ["normal", "normal", "normal"])
    assert.deepStrictEqual([34, 38, 41, 102].map(classifyQ850), Array(4).fill("transient"))
    assert.deepStrictEqual([50, 111, 127, 24].map(classifyQ850), Array(4).fill("other"))
  })
  it("a number problem on the forwarded leg is the callee's, not the X's", () => {
    for (let q = 0; q <= 127; q++) assert.notStrictEqual(classifyForwardedQ850(q), "number")
    assert.strictEqual(classifyForwardedQ850(1), "callee")
    assert.strictEqual(classifyForwardedQ850(41), "transient")
  })
})

describe("the Huawei hang-up code table", () => {
  it("classes per shared/providers/huawei.md §4.4 and §6 rules 7-8", () => {
    assert.deepStrictEqual([8025, 8055].map(classifyHuaweiStateCode), ["number", "number"])
    assert.deepStrictEqual([7503, 7504, 8035, 8100, 8101, 8102, 8103, 8104, 8105].map(classifyHuaweiStateCode), Array(9).fill("callee"))
    assert.deepStrictEqual([522, 7001, 7005, 7109, 8007, 8040].map(classifyHuaweiStateCode), Array(6).fill("transient"))
    assert.deepStrictEqual([0].map(classifyHuaweiStateCode), ["normal"])
    assert.deepStrictEqual([8014, 8016, 7501, 7108, 8010, 8023, 99999].map(classifyHuaweiStateCode), Array(7).fill("other"))
  })

  it.effect("is the default table for huawei outcome reports", () =>
    withOutcomes(Effect.gen(function*() {
      assert.deepStrictEqual(yield* reportOutcome({ ...base, stateCode: 8055 }), { outcomeClass: "number", marksX: true, pending: false })
      assert.deepStrictEqual((yield* reportOutcome({ ...base, stateCode: 8101 })).outcomeClass, "callee")
    })))
})
