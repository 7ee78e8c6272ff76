/**
 * The pure decision table. Real numbers come from 138/139 and X numbers from 170/171, so "never dials a
 * real number" and "never dials the expired X" are meaningful comparisons.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fc from "fast-check"
import { decide, type DecisionFacts, type DecisionPolicy, type FailureFact, type RebindFact } from "../../src/domain/decide.ts"
import { evidenceOfStatus } from "../../src/domain/evidence.ts"
import { Decision, type DecisionCore } from "../../src/domain/decision.ts"
import type { ErrorClass } from "../../src/domain/errors.ts"
import { normalizeStatus, type StatusAnswer } from "../../src/domain/status.ts"

const digits = (n: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: n, maxLength: n })
/** Real subscriber numbers: 138/139 mobiles. */
const realArb = fc.tuple(fc.constantFrom("138", "139"), digits(8)).map(([p, r]) => p + r)
/** Privacy (X) numbers: 170/171 virtual-operator numbers, disjoint from the real range. */
const xArb = fc.tuple(fc.constantFrom("170", "171"), digits(8)).map(([p, r]) => p + r)
const isReal = (n: string) => /^13[89]/.test(n)
const isX = (n: string) => /^17[01]/.test(n)

const subsIdArb = digits(16)
const extensionArb = fc.option(fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 3 }), { nil: undefined })
const errorClassArb = fc.constantFrom<ErrorClass>("transient", "throttled", "binding", "pool", "configuration", "bad-input")
const failureArb: fc.Arbitrary<FailureFact> = fc.record({
  code: fc.constantFrom("isv.FLOW_LIMIT", "isp.SYSTEM_ERROR", "Throttling.User", "isv.NO_AVAILABLE_NUMBER", "Transport.Timeout", "isv.SUBS_NOT_EXIST"),
  errorClass: errorClassArb,
  // providers quote numbers in their messages (e.g. "illegal number: 13800138000")
  message: fc.oneof(fc.constantFrom("", "retry later", "no number"), realArb.map((n) => `illegal number: ${n}`))
})
const requestIdArb = fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined })

/** calledNo as providers send it: an X, absent, or empty. */
const calledNoArb = fc.oneof(xArb, fc.constant(undefined), fc.constant(""))
const answerArb: fc.Arbitrary<StatusAnswer | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ status: fc.constant(1 as const), calledNo: calledNoArb, extension: extensionArb, requestId: requestIdArb }),
  fc.record({ status: fc.constant(2 as const), calledNo: calledNoArb, extension: extensionArb, requestId: requestIdArb }),
  fc.record({ status: fc.constant(3 as const), calledNo: fc.constant(undefined), extension: fc.constant(undefined), requestId: requestIdArb }),
  fc.record({ status: fc.constant(4 as const), calledNo: fc.constant(undefined), extension: fc.constant(undefined), requestId: requestIdArb })
)

const policyArb: fc.Arbitrary<DecisionPolicy> = fc.record({
  allowRealFallback: fc.boolean(),
  degradedDecision: fc.constantFrom("use-x", "fallback-real", "refuse")
})

/** Facts with the provider's raw status answer; the evidence is read from it by the neutral status table. */
type Facts = Omit<DecisionFacts, "evidence"> & { readonly answer: StatusAnswer | undefined }
const toFacts = ({ answer, ...rest }: Facts): DecisionFacts => ({
  ...rest,
  evidence: answer === undefined ? undefined : evidenceOfStatus(answer, "QueryCallStatus")
})
const decideFacts = (facts: Facts, policy: DecisionPolicy) => decide(toFacts(facts), policy)

const factsArb: fc.Arbitrary<Facts> = fc
  .record({
    subsId: subsIdArb,
    phoneNoX: xArb,
    extension: extensionArb,
    answer: answerArb,
    failure: fc.option(failureArb, { nil: undefined }),
    timedOut: fc.boolean(),
    realCallee: fc.option(realArb, { nil: undefined }),
    rebindTag: fc.constantFrom("Bound", "Failed", "absent"),
    newSubsId: subsIdArb,
    newX: xArb,
    newExtension: extensionArb,
    rebindFailure: fc.option(failureArb, { nil: undefined }),
    why: fc.constantFrom("the provider refused the new binding", "the binding's parties are unknown")
  })
  .filter((r) => r.newX !== r.phoneNoX && r.newSubsId !== r.subsId)
  .map((r): Facts => {
    const rebind: RebindFact | undefined = r.rebindTag === "Bound"
      ? { _tag: "Bound", provider: "aliyun", subsId: r.newSubsId, phoneNoX: r.newX, extension: r.newExtension, temporary: false }
      : r.rebindTag === "Failed"
      ? { _tag: "Failed", failure: r.rebindFailure, why: r.why }
      : undefined
    return {
      provider: "aliyun", subsId: r.subsId, phoneNoX: r.phoneNoX, extension: r.extension, answer: r.answer, failure: r.failure,
      timedOut: r.timedOut, realCallee: r.realCallee, rebind
    }
  })

const withMeta = (core: DecisionCore) => ({ ...core, poolKey: "FC100000000001", attempts: 1, elapsedMs: 12, requestIds: ["r-1"] })
const RUNS = { numRuns: 500, seed: 20261123 }

const check = (body: (facts: Facts, policy: DecisionPolicy, d: DecisionCore) => void) => () =>
  fc.assert(fc.property(factsArb, policyArb, (facts, policy) => body(facts, policy, decideFacts(facts, policy))), RUNS)

describe("decide: properties over every status × policy × known parties", () => {
  it("the generators cover every status, every rebind shape and every decision kind", () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(factsArb, policyArb, (facts, policy) => {
        seen.add(`status:${facts.answer?.status ?? "none"}`)
        seen.add(`rebind:${facts.rebind?._tag ?? "absent"}`)
        seen.add(`decision:${decideFacts(facts, policy).decision}`)
      }),
      RUNS
    )
    for (const k of ["status:1", "status:2", "status:3", "status:4", "status:none", "rebind:Bound", "rebind:Failed", "rebind:absent"]) {
      assert.isTrue(seen.has(k), k)
    }
    for (const k of ["use-x", "use-temporary-x", "fallback-real", "rebind", "refuse"]) assert.isTrue(seen.has(`decision:${k}`), k)
  })

  it("every decision decodes with the Decision schema once meta fields are added", check((_facts, _policy, d) => {
    const decoded = Schema.decodeUnknownSync(Decision)(withMeta(d))
    assert.deepStrictEqual(decoded, withMeta(d) as Decision)
  }))

  it("status 3 never dials an X (neither the binding's X nor the answer's calledNo)", check((facts, _policy, d) => {
    if (facts.answer?.status !== 3) return
    assert.notStrictEqual(d.dial, facts.phoneNoX)
    if (facts.answer.calledNo) assert.notStrictEqual(d.dial, facts.answer.calledNo)
    if (d.dial !== null) assert.isTrue(isReal(d.dial), `status 3 dialled ${d.dial}`)
    assert.include(["fallback-real", "refuse"], d.decision)
  }))

  it("status 2 without a number behaves exactly like status 3", check((facts, policy, d) => {
    if (facts.answer?.status !== 2 || (facts.answer.calledNo !== undefined && facts.answer.calledNo !== "")) return
    assert.notStrictEqual(d.dial, facts.phoneNoX)
    assert.include(["fallback-real", "refuse"], d.decision)
    const as3 = decideFacts({ ...facts, answer: { ...facts.answer, status: 3, calledNo: undefined } }, policy)
    assert.strictEqual(d.decision, as3.decision)
    assert.strictEqual(d.dial, as3.dial)
  }))

  it("status 4 never dials the expired X", check((facts, _policy, d) => {
    if (facts.answer?.status !== 4) return
    assert.notStrictEqual(d.dial, facts.phoneNoX)
    assert.notStrictEqual(d.decision, "use-x")
    if (facts.rebind?._tag === "Bound") {
      assert.strictEqual(d.decision, "rebind")
      assert.strictEqual(d.dial, facts.rebind.phoneNoX)
      assert.strictEqual(d.subsId, facts.rebind.subsId)
      assert.strictEqual((d as { previousSubsId?: string }).previousSubsId, facts.subsId)
    } else {
      assert.include(["fallback-real", "refuse"], d.decision)
    }
  }))

  it("fallback-real only when allowed and the real callee is known, and then it dials exactly that callee", check((facts, policy, d) => {
    if (d.decision !== "fallback-real") return
    assert.isTrue(policy.allowRealFallback)
    assert.isDefined(facts.realCallee)
    assert.strictEqual(d.dial, facts.realCallee)
    assert.isNull(d.subsId)
    assert.isNull(d.extension)
  }))

  it("no real number is dialled by any decision other than fallback-real", check((facts, _policy, d) => {
    if (d.decision === "fallback-real") return
    if (d.dial !== null) {
      assert.isFalse(isReal(d.dial), `${d.decision} dialled the real number ${d.dial}`)
      assert.isTrue(isX(d.dial))
    }
    if (facts.realCallee !== undefined) assert.notStrictEqual(d.dial, facts.realCallee)
  }))

  it("no real number appears anywhere in a decision other than fallback-real, provider messages included", check((_facts, _policy, d) => {
    if (d.decision === "fallback-real") return
    assert.notMatch(JSON.stringify(d), /(?<!\d)13[89]\d{8}(?!\d)/)
  }))

  it("refuse has dial null, no binding and no extension", check((_facts, _policy, d) => {
    if (d.decision !== "refuse") return
    assert.isNull(d.dial)
    assert.isNull(d.subsId)
    assert.isNull(d.extension)
  }))

  it("refuse only when nothing else is allowed", check((facts, policy, d) => {
    if (d.decision !== "refuse") return
    const canDialReal = policy.allowRealFallback && facts.realCallee !== undefined
    const status = facts.answer?.status
    if (status === undefined) {
      // degraded: refuse only by policy, or because fallback-real cannot be honoured
      assert.isTrue(policy.degradedDecision === "refuse" || (policy.degradedDecision === "fallback-real" && !canDialReal))
    } else {
      assert.isFalse(canDialReal, "refused although the real callee could be dialled")
      assert.notStrictEqual(status, 1)
      if (status === 2) assert.isTrue(!facts.answer?.calledNo)
      if (status === 4) assert.notStrictEqual(facts.rebind?._tag, "Bound")
    }
  }))

  it("status 3/4 with allowRealFallback and a known real callee is never refuse", check((facts, policy, d) => {
    const status = facts.answer?.status
    if ((status === 3 || status === 4) && policy.allowRealFallback && facts.realCallee !== undefined) {
      assert.notStrictEqual(d.decision, "refuse")
      if (status === 3) assert.strictEqual(d.decision, "fallback-real")
    }
  }))

  it("status 1 dials calledNo or X, on the request's binding", check((facts, _policy, d) => {
    if (facts.answer?.status !== 1) return
    assert.strictEqual(d.decision, "use-x")
    assert.strictEqual(d.dial, facts.answer.calledNo ? facts.answer.calledNo : facts.phoneNoX)
    assert.strictEqual(d.subsId, facts.subsId)
    assert.strictEqual(d.extension, facts.answer.extension ?? facts.extension ?? null)
  }))

  it("status 2 with a number dials the temporary X", check((facts, _policy, d) => {
    if (facts.answer?.status !== 2 || !facts.answer.calledNo) return
    assert.strictEqual(d.decision, "use-temporary-x")
    assert.strictEqual(d.dial, facts.answer.calledNo)
    assert.strictEqual(d.subsId, facts.subsId)
  }))

  it("source and status reflect whether the provider answered", check((facts, _policy, d) => {
    if (facts.answer === undefined) {
      assert.strictEqual(d.source, "degraded")
      assert.isNull(d.status)
      assert.strictEqual(d.providerCode, facts.failure?.code ?? null)
    } else {
      assert.strictEqual(d.source, "provider")
      assert.strictEqual(d.status, facts.answer.status)
    }
  }))

  it("degraded follows PRECALL_DEGRADED_DECISION", check((facts, policy, d) => {
    if (facts.answer !== undefined) return
    const canDialReal = policy.allowRealFallback && facts.realCallee !== undefined
    switch (policy.degradedDecision) {
      case "use-x":
        assert.strictEqual(d.decision, "use-x")
        assert.strictEqual(d.dial, facts.phoneNoX)
        assert.strictEqual(d.subsId, facts.subsId)
        assert.strictEqual(d.extension, facts.extension ?? null)
        break
      case "fallback-real":
        assert.strictEqual(d.decision, canDialReal ? "fallback-real" : "refuse")
        break
      case "refuse":
        assert.strictEqual(d.decision, "refuse")
    }
  }))

  it("the reason always names the status or the degradation, and the failure code when there is one", check((facts, _policy, d) => {
    assert.isAbove(d.reason.length, 0)
    if (facts.answer === undefined) {
      assert.include(d.reason, `degraded to ${_policy.degradedDecision}`)
      if (facts.failure !== undefined) assert.include(d.reason, facts.failure.code)
    } else {
      assert.include(d.reason, `status ${facts.answer.status}`)
    }
  }))

  it("is pure: the same facts give the same decision", check((facts, policy, d) => {
    assert.deepStrictEqual(decideFacts(structuredClone(facts), { ...policy }), d)
  }))
})

describe("decide: examples", () => {
  const base: Facts = {
    provider: "aliyun", subsId: "1000000123456789", phoneNoX: "17000000001", extension: undefined, answer: undefined, failure: undefined,
    timedOut: false, realCallee: undefined, rebind: undefined
  }
  const allow: DecisionPolicy = { allowRealFallback: true, degradedDecision: "use-x" }
  const deny: DecisionPolicy = { allowRealFallback: false, degradedDecision: "use-x" }
  const flowLimit: FailureFact = { code: "isv.FLOW_LIMIT", errorClass: "throttled", message: "flow control" }

  it("degraded reason and providerCode carry the provider code and class", () => {
    const d = decideFacts({ ...base, failure: flowLimit }, deny)
    assert.strictEqual(d.decision, "use-x")
    assert.strictEqual(d.providerCode, "isv.FLOW_LIMIT")
    assert.include(d.reason, "isv.FLOW_LIMIT")
    assert.include(d.reason, "throttled")
    assert.include(d.reason, "degraded to use-x")
  })

  it("degraded by the deadline with no failure says so", () => {
    const d = decideFacts({ ...base, timedOut: true }, { allowRealFallback: false, degradedDecision: "refuse" })
    assert.strictEqual(d.decision, "refuse")
    assert.isNull(d.providerCode)
    assert.include(d.reason, "within the deadline")
    assert.include(d.reason, "degraded to refuse")
  })

  it("degraded fallback-real without a known callee refuses and says why", () => {
    const d = decideFacts({ ...base, failure: flowLimit }, { allowRealFallback: true, degradedDecision: "fallback-real" })
    assert.strictEqual(d.decision, "refuse")
    assert.include(d.reason, "isv.FLOW_LIMIT")
    assert.include(d.reason, "the real callee is unknown")
  })

  it("status 3 without permission refuses, naming the policy", () => {
    const d = decideFacts({ ...base, answer: { status: 3, calledNo: undefined, extension: undefined, requestId: "r" }, realCallee: "13900139000" }, deny)
    assert.strictEqual(d.decision, "refuse")
    assert.include(d.reason, "not allowed by policy")
  })

  it("status 4 rebind failure names the bind error code in reason and providerCode", () => {
    const d = decideFacts({
      ...base,
      answer: { status: 4, calledNo: undefined, extension: undefined, requestId: "r" },
      realCallee: "13900139000",
      rebind: { _tag: "Failed", failure: { code: "isv.NO_AVAILABLE_NUMBER", errorClass: "pool", message: "pool empty" }, why: "the provider refused the new binding" }
    }, allow)
    assert.strictEqual(d.decision, "fallback-real")
    assert.strictEqual(d.dial, "13900139000")
    assert.strictEqual(d.providerCode, "isv.NO_AVAILABLE_NUMBER")
    assert.include(d.reason, "isv.NO_AVAILABLE_NUMBER")
    assert.include(d.reason, "rebind failed")
  })

  it("status 4 rebound dials the new X with its extension and reports the previous binding", () => {
    const d = decideFacts({
      ...base,
      extension: "7",
      answer: { status: 4, calledNo: undefined, extension: undefined, requestId: "r" },
      rebind: { _tag: "Bound", provider: "aliyun", subsId: "2000", phoneNoX: "17100000002", extension: "12", temporary: false }
    }, deny)
    assert.deepStrictEqual(d, {
      decision: "rebind", dial: "17100000002", extension: "12", subsId: "2000", previousSubsId: base.subsId,
      status: 4, source: "provider", provider: "aliyun", providerCode: null, reason: d.reason
    })
  })

  it("status 4 cut short by the deadline says so and never dials X", () => {
    const d = decideFacts({ ...base, answer: { status: 4, calledNo: undefined, extension: undefined, requestId: "r" }, timedOut: true }, deny)
    assert.strictEqual(d.decision, "refuse")
    assert.include(d.reason, "within the deadline")
  })
})

describe("normalizeStatus (aliyun.md §7 defensive rules)", () => {
  it("keeps 1 and 4, keeps 2 only with a number, and maps everything else to 3", () => {
    assert.strictEqual(normalizeStatus(1, "17000000001"), 1)
    assert.strictEqual(normalizeStatus(1, undefined), 1)
    assert.strictEqual(normalizeStatus(4, undefined), 4)
    assert.strictEqual(normalizeStatus(2, "17000000077"), 2)
    assert.strictEqual(normalizeStatus(2, ""), 3)
    assert.strictEqual(normalizeStatus(2, undefined), 3)
    assert.strictEqual(normalizeStatus(3, undefined), 3)
    fc.assert(
      fc.property(fc.integer(), fc.option(xArb, { nil: undefined }), (raw, calledNo) => {
        fc.pre(raw < 1 || raw > 4)
        assert.strictEqual(normalizeStatus(raw, calledNo), 3)
      }),
      { numRuns: 100, seed: 5 }
    )
  })
})
