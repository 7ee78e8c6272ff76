/**
 * The reasons the decision table gives, as docs/decisions.md shows them: each names the status and
 * the evidence it came from, what was done, and the provider code when one was involved. Operators
 * read these in logs and support tickets, so the documented wording is pinned here.
 */
import { assert, describe, it } from "@effect/vitest"
import { decide, type DecisionFacts, type DecisionPolicy } from "../../src/domain/decide.ts"
import type { Evidence, Verdict } from "../../src/domain/evidence.ts"

const X = "17000000001"
const NEW_X = "17100000002"
const B = "13900139000"

const evidence = (verdict: Verdict, source: string, status?: 1 | 2 | 3 | 4): Evidence => ({ verdict, source, requestId: undefined, reusable: false, status })
const facts = (extra: Partial<DecisionFacts>): DecisionFacts => ({
  provider: "aliyun", subsId: "1000000123456789", phoneNoX: X, extension: undefined, evidence: undefined, failure: undefined,
  timedOut: false, realCallee: undefined, rebind: undefined, ...extra
})
const strict: DecisionPolicy = { allowRealFallback: false, degradedDecision: "use-x" }
const allowReal: DecisionPolicy = { allowRealFallback: true, degradedDecision: "use-x" }
const bound = (provider: string, temporary = false) =>
  ({ _tag: "Bound", provider, subsId: "2000000000000001", phoneNoX: NEW_X, extension: undefined, temporary }) as const
const pool = { code: "isv.NO_AVAILABLE_NUMBER", errorClass: "pool", message: "no number" } as const

describe("reasons as docs/decisions.md gives them", () => {
  it("status 1 from QueryCallStatus, asked and reused", () => {
    const asked = decide(facts({ evidence: evidence({ _tag: "UseX" }, "QueryCallStatus", 1) }), strict)
    assert.strictEqual(asked.reason, "status 1 (QueryCallStatus): binding normal, dialling X")
    const reused = decide(facts({ evidence: evidence({ _tag: "UseX" }, "QueryCallStatus", 1), fromCache: true }), strict)
    assert.strictEqual(reused.reason, "status 1 (QueryCallStatus, reused from the status cache): binding normal, dialling X")
    assert.strictEqual(reused.source, "cache")
  })

  it("status 2: the platform's temporary X", () => {
    const d = decide(facts({ evidence: evidence({ _tag: "TemporaryX", calledNo: "17000000077" }, "QueryCallStatus", 2) }), strict)
    assert.strictEqual(d.reason, "status 2 (QueryCallStatus): the platform assigned a temporary X")
  })

  it("status 3: nothing dialable, then the real callee or a refusal saying why", () => {
    const e = evidence({ _tag: "NothingDialable" }, "QueryCallStatus", 3)
    assert.strictEqual(decide(facts({ evidence: e, realCallee: B }), allowReal).reason, "status 3 (QueryCallStatus): no X can carry the call; dialling the real callee")
    assert.strictEqual(decide(facts({ evidence: e }), allowReal).reason, "status 3 (QueryCallStatus): no X can carry the call; refused: the real callee is unknown")
    assert.strictEqual(
      decide(facts({ evidence: e, realCallee: B }), strict).reason,
      "status 3 (QueryCallStatus): no X can carry the call; refused: real-number fallback is not allowed by policy"
    )
  })

  it("status 4 and a broken X: a new binding, on this provider or another, or a short second one", () => {
    const expired = evidence({ _tag: "Expired" }, "binding query: expired (Status 0)")
    assert.strictEqual(
      decide(facts({ evidence: expired, rebind: bound("aliyun") }), strict).reason,
      "status 4 (binding query: expired (Status 0)): binding expired; made a new binding"
    )
    const broken = evidence({ _tag: "XBroken", temporary: false }, "3 number-class call failures on X in 10 min")
    assert.strictEqual(
      decide(facts({ evidence: broken, rebind: bound("aliyun") }), strict).reason,
      "status 3 (3 number-class call failures on X in 10 min): X broken; made a new binding"
    )
    assert.strictEqual(
      decide(facts({ evidence: broken, rebind: { ...bound("huawei"), movedBecause: pool } }), strict).reason,
      "status 3 (3 number-class call failures on X in 10 min): X broken; made a new binding on huawei (aliyun could not bind: isv.NO_AVAILABLE_NUMBER (pool) no number)"
    )
    const temporary = decide(facts({ evidence: evidence({ _tag: "XBroken", temporary: true }, "X status 9"), rebind: bound("aliyun", true) }), strict)
    assert.strictEqual(temporary.reason, "status 3 (X status 9): X broken; made a short second binding on another X as a temporary X")
    assert.strictEqual(temporary.status, 2)
  })

  it("no rebind: failed (with the failure), impossible, or cut short by the deadline", () => {
    const expired = evidence({ _tag: "Expired" }, "QueryCallStatus", 4)
    assert.strictEqual(
      decide(facts({ evidence: expired, rebind: { _tag: "Failed", failure: pool, why: "the provider refused the new binding" } }), strict).reason,
      "status 4 (QueryCallStatus): binding expired, rebind failed: the provider refused the new binding: isv.NO_AVAILABLE_NUMBER (pool) no number; refused: real-number fallback is not allowed by policy"
    )
    assert.strictEqual(
      decide(facts({ evidence: expired }), allowReal).reason,
      "status 4 (QueryCallStatus): binding expired, no rebind was possible; refused: the real callee is unknown"
    )
    assert.strictEqual(
      decide(facts({ evidence: expired, timedOut: true, realCallee: B }), allowReal).reason,
      "status 4 (QueryCallStatus): binding expired, no rebind within the deadline; dialling the real callee"
    )
  })

  it("degraded: no answer in time, or the last failure, and what the policy degraded to", () => {
    assert.strictEqual(decide(facts({ timedOut: true }), strict).reason, "no provider answer within the deadline; degraded to use-x")
    const flow = { code: "isv.FLOW_LIMIT", errorClass: "throttled", message: "flow control" } as const
    assert.strictEqual(decide(facts({ failure: flow }), strict).reason, "no provider answer: isv.FLOW_LIMIT (throttled) flow control; degraded to use-x")
    assert.strictEqual(
      decide(facts({ failure: flow, timedOut: true }), { allowRealFallback: false, degradedDecision: "refuse" }).reason,
      "no provider answer within the deadline: isv.FLOW_LIMIT (throttled) flow control; degraded to refuse"
    )
    assert.strictEqual(
      decide(facts({ failure: flow, realCallee: B }), { allowRealFallback: true, degradedDecision: "fallback-real" }).reason,
      "no provider answer: isv.FLOW_LIMIT (throttled) flow control; degraded to fallback-real; dialling the real callee"
    )
  })
})
