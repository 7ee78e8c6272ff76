/**
 * The wire schemas: what a decide request may carry (decodeRequest, the public decoder behind
 * POST /v1/decisions and createPrecall), what a decision may look like, and the status values.
 * Each rejected field must say what was expected, since those messages are the issues a client gets
 * back in a 400.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import * as fc from "fast-check"
import { BindingMode, Extension, PoolKey, SubsId } from "../../src/domain/binding.ts"
import { Decision, DecisionKind, DecisionSource, DegradedDecision } from "../../src/domain/decision.ts"
import { CallStatus, normalizeStatus } from "../../src/domain/status.ts"
import { DecideRequest } from "../../src/domain/request.ts"
import { decodeRequest, schemaIssues } from "../../src/precall.ts"

const valid = { poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: "17000000001" }

type Issues = ReadonlyArray<{ readonly path: string; readonly message: string }>
/** The decoded request, or the issues a client would get back. */
const decoded = (input: unknown): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly issues: Issues } =>
  Effect.runSync(Effect.match(decodeRequest(input), {
    onFailure: (e) => ({ ok: false as const, issues: e.issues }),
    onSuccess: (value) => ({ ok: true as const, value })
  }))

const accepts = (input: Record<string, unknown>) => {
  const r = decoded(input)
  assert.isTrue(r.ok, `rejected ${JSON.stringify(input)}: ${r.ok ? "" : JSON.stringify(r.issues)}`)
  // what was accepted comes back unchanged
  if (r.ok) assert.deepStrictEqual(r.value, input)
}

/** Rejected with exactly one issue, at `path`, whose message names what was expected. */
const rejects = (input: Record<string, unknown>, path: string, expected: string) => {
  const r = decoded(input)
  assert.isFalse(r.ok, `accepted ${JSON.stringify(input)}`)
  if (r.ok) return
  assert.deepStrictEqual(r.issues.map((i) => i.path), [path], JSON.stringify(r.issues))
  assert.include(r.issues[0]!.message, expected)
}

const repeat = (c: string, n: number) => c.repeat(n)

describe("decide requests", () => {
  it("a request with every optional field decodes to itself", () => {
    accepts(valid)
    accepts({
      ...valid, provider: "huawei", extension: "12", callerNo: "13800138000", realCallee: "13900139000",
      binding: { phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" }
    })
  })

  it("provider: a short lower-case name, letters first, up to 32 characters", () => {
    for (const provider of ["aliyun", "huawei", "a", "my-provider-2", "a" + repeat("b", 31)]) accepts({ ...valid, provider })
    for (const provider of ["", "Aliyun", "aliYun", "1aliyun", "-aliyun", "ali yun", "aliyun!", "aliyun_2", "a" + repeat("b", 32)]) {
      rejects({ ...valid, provider }, "provider", "a provider name such as aliyun or huawei")
    }
  })

  it("poolKey and subsId: 1-64 letters, digits, _ or -", () => {
    const ok = ["FC100000000001", "f", "Z", "7", "_", "-", "Ab_9-z", repeat("K", 64)]
    const bad = ["", " FC1", "FC1 ", "FC 1", "!FC1", "FC1!", "FC1.2", repeat("K", 65)]
    for (const poolKey of ok) accepts({ ...valid, poolKey })
    for (const poolKey of bad) rejects({ ...valid, poolKey }, "poolKey", "a pool key of 1-64 letters, digits, _ or -")
    for (const subsId of ok) accepts({ ...valid, subsId })
    for (const subsId of bad) rejects({ ...valid, subsId }, "subsId", "a SubsId of 1-64 letters, digits, _ or -")
  })

  it("extension: 1-4 digits", () => {
    for (const extension of ["0", "12", "123", "1234"]) accepts({ ...valid, extension })
    for (const extension of ["", "12345", "a1", "1a", " 1", "1 ", "1-2"]) rejects({ ...valid, extension }, "extension", "an extension of 1-4 digits")
  })

  it("binding: its parties are phone numbers and its mode one of AXB, AXN, AX, AXN_EXTENSION", () => {
    for (const mode of ["AXB", "AXN", "AX", "AXN_EXTENSION"]) accepts({ ...valid, binding: { phoneNoA: "13800138000", mode } })
    accepts({ ...valid, binding: {} })
    rejects({ ...valid, binding: { mode: "AXE" } }, "binding.mode", "AXN_EXTENSION")
    rejects({ ...valid, binding: { phoneNoA: "12345" } }, "binding.phoneNoA", "phone number")
    rejects({ ...valid, binding: { phoneNoB: "not a number" } }, "binding.phoneNoB", "phone number")
  })

  it("every problem of a request is reported at once, each at its path", () => {
    const r = decoded({ provider: "Aliyun", poolKey: "", subsId: "1!", phoneNoX: "x", extension: "12345", binding: { mode: "AXE" } })
    assert.isFalse(r.ok)
    if (!r.ok) assert.sameMembers(r.issues.map((i) => i.path), ["provider", "poolKey", "subsId", "phoneNoX", "extension", "binding.mode"])
  })

  it("decodes as one decode with every issue collected would: the same requests, values and issues", () => {
    const full = Schema.decodeUnknownResult(DecideRequest)
    const field = fc.oneof(
      fc.constantFrom(undefined, "", "FC100000000001", "1000000123456789", "17000000001", "+86 138 0000 0001", "Aliyun", "aliyun", "1234", "12345", "AXB", "AXE"),
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.constant(null)
    )
    const request = fc.record({
      provider: field, poolKey: field, subsId: field, phoneNoX: field, extension: field, callerNo: field, realCallee: field,
      binding: fc.oneof(field, fc.record({ phoneNoA: field, phoneNoB: field, mode: field }, { requiredKeys: [] }))
    }, { requiredKeys: [] })
    fc.assert(fc.property(fc.oneof(request, fc.record({ poolKey: fc.constant(valid.poolKey), subsId: fc.constant(valid.subsId), phoneNoX: fc.constant(valid.phoneNoX), callerNo: field })), (input) => {
      const expected = full(input, { errors: "all" })
      const r = decoded(input)
      if (Result.isSuccess(expected)) assert.deepStrictEqual(r, { ok: true, value: expected.success })
      else assert.deepStrictEqual(r, { ok: false, issues: schemaIssues(expected.failure.issue) })
    }), { numRuns: 500 })
  })

  it("the exported field schemas agree with the request's", () => {
    assert.isTrue(Schema.is(PoolKey)("FC1") && Schema.is(SubsId)("S_1-a") && Schema.is(Extension)("1234"))
    assert.isFalse(Schema.is(PoolKey)("") || Schema.is(SubsId)("a b") || Schema.is(Extension)("12345"))
    assert.deepStrictEqual(["AXB", "AXN", "AX", "AXN_EXTENSION", "AXE"].map(Schema.is(BindingMode)), [true, true, true, true, false])
  })
})

describe("decisions", () => {
  const meta = {
    provider: "aliyun", poolKey: "FC100000000001", status: 1, source: "provider", reason: "status 1", providerCode: null,
    attempts: 1, elapsedMs: 12, requestIds: ["rid-1"], extension: null, subsId: "1000000123456789"
  }
  const useX = { ...meta, decision: "use-x", dial: "17000000001" }
  const examples = {
    useX,
    temporary: { ...meta, status: 2, decision: "use-temporary-x", dial: "17000000077" },
    real: { ...meta, status: 3, decision: "fallback-real", dial: "13900139000", subsId: null },
    rebind: { ...meta, status: 4, decision: "rebind", dial: "17100000002", subsId: "2000000000000001", previousSubsId: "1000000123456789" },
    refuse: { ...meta, status: null, source: "degraded", decision: "refuse", dial: null, subsId: null, providerCode: "isv.FLOW_LIMIT" },
    cached: { ...useX, source: "cache" }
  }
  const isDecision = Schema.is(Decision)

  it("each decision kind, as the engine makes it, is a Decision", () => {
    for (const [name, d] of Object.entries(examples)) assert.isTrue(isDecision(d), name)
  })

  it("a decision is refused when a field breaks its kind's shape", () => {
    const broken: Record<string, unknown> = {
      "unknown kind": { ...useX, decision: "dial" },
      "unknown source": { ...useX, source: "guess" },
      "status 0": { ...useX, status: 0 },
      "status 5": { ...useX, status: 5 },
      "refuse with a number": { ...examples.refuse, dial: "17000000001" },
      "use-x without a number": { ...useX, dial: null },
      "fallback-real without a number": { ...examples.real, dial: null },
      "temporary X without a number": { ...examples.temporary, dial: null },
      "rebind without previousSubsId": { ...examples.rebind, previousSubsId: undefined },
      "no reason": { ...useX, reason: undefined },
      "a numeric provider code": { ...useX, providerCode: 17 },
      "request ids not strings": { ...useX, requestIds: [1] },
      "no attempts": { ...useX, attempts: undefined },
      "no poolKey": { ...useX, poolKey: undefined },
      "no extension key": { ...useX, extension: undefined },
      "no subsId key": { ...useX, subsId: undefined }
    }
    for (const [name, d] of Object.entries(broken)) assert.isFalse(isDecision(d), name)
  })

  it("the kinds, sources and degraded decisions are exactly the documented ones", () => {
    const kinds = ["use-x", "use-temporary-x", "fallback-real", "rebind", "refuse"]
    assert.deepStrictEqual([...kinds, "dial"].map(Schema.is(DecisionKind)), [true, true, true, true, true, false])
    assert.deepStrictEqual(["provider", "degraded", "cache", "guess"].map(Schema.is(DecisionSource)), [true, true, true, false])
    // a degraded decision cannot be a rebind or a temporary X: without an answer there is none to dial
    assert.deepStrictEqual(kinds.map(Schema.is(DegradedDecision)), [true, false, true, false, true])
  })
})

describe("call status", () => {
  it("is one of 1-4", () => {
    assert.deepStrictEqual([0, 1, 2, 3, 4, 5, "1"].map(Schema.is(CallStatus)), [false, true, true, true, true, false, false])
  })

  it("normalizeStatus keeps 1 and 4, keeps 2 only with a number, and reads anything else as 3", () => {
    assert.strictEqual(normalizeStatus(1, undefined), 1)
    assert.strictEqual(normalizeStatus(1, "17000000001"), 1)
    assert.strictEqual(normalizeStatus(4, undefined), 4)
    assert.strictEqual(normalizeStatus(2, "17000000077"), 2)
    assert.strictEqual(normalizeStatus(2, ""), 3)
    assert.strictEqual(normalizeStatus(2, undefined), 3)
    for (const s of [0, 3, 5, 7, -1]) assert.strictEqual(normalizeStatus(s, "17000000077"), 3, String(s))
  })
})
