/** Huawei's §6 evidence table (huawei.md): properties over every combination of local facts, and one example per row. */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { statusOf } from "../../src/domain/evidence.ts"
import { accountBlockedCodes, bindingGoneCodes, type HuaweiFacts, huaweiEvidence, NEAR_EXPIRY_MS, needsBindingQuery, X_REFUSED_STATUS } from "../../src/providers/huawei/evidence.ts"

const NOW = Date.UTC(2026, 11, 4, 3, 0, 0)
const factsArb: fc.Arbitrary<HuaweiFacts> = fc.record({
  now: fc.constant(NOW),
  accountBlocked: fc.option(fc.constantFrom(...accountBlockedCodes), { nil: undefined }),
  cached: fc.option(fc.record({ expiresAt: fc.option(fc.integer({ min: NOW - 3_600_000, max: NOW + 3_600_000 }), { nil: null }) }), { nil: undefined }),
  query: fc.option(fc.oneof(
    fc.constant({ _tag: "InEffect" as const }),
    fc.constantFrom(...bindingGoneCodes).map((code) => ({ _tag: "Gone" as const, code }))
  ), { nil: undefined }),
  xStatus: fc.option(fc.record({
    status: fc.constantFrom("5", "9", "10", "11"),
    cause: fc.option(fc.constantFrom("1", "2", "3", "5", "6", "7"), { nil: null }),
    at: fc.constant(NOW - 60_000)
  }), { nil: undefined }),
  lastCallCode: fc.option(fc.constantFrom("stateCode:8014", "stateCode:8055", "stateCode:8016", "stateCode:8102", "q850:17", "stateCode:0"), { nil: undefined })
})
const RUNS = { numRuns: 1000, seed: 20261204 }
const check = (body: (f: HuaweiFacts, e: ReturnType<typeof huaweiEvidence>) => void) => () =>
  fc.assert(fc.property(factsArb, (f) => body(f, huaweiEvidence(f, "r"))), RUNS)

const cachedExpired = (f: HuaweiFacts) => f.query === undefined && f.cached?.expiresAt != null && f.now >= f.cached.expiresAt
const gone = (f: HuaweiFacts) => f.query?._tag === "Gone" || cachedExpired(f) || f.lastCallCode === "stateCode:8014"
const xDown = (f: HuaweiFacts) =>
  (f.xStatus !== undefined && (f.xStatus.status === "9" || f.xStatus.status === "10") && f.xStatus.cause !== "6") || f.lastCallCode === "stateCode:8055"

describe("Huawei evidence table (huawei.md §6), first match wins", () => {
  it("rule 1: a blocked account makes nothing dialable, whatever else is known", check((f, e) => {
    if (f.accountBlocked === undefined) return
    assert.strictEqual(e.verdict._tag, "NothingDialable")
    assert.include(e.source, f.accountBlocked)
  }))

  it("rule 2: a gone or expired binding is rebound (status 4), before anything about its X", check((f, e) => {
    if (f.accountBlocked !== undefined) return
    assert.strictEqual(e.verdict._tag === "Expired", gone(f))
    if (gone(f)) assert.strictEqual(statusOf(e.verdict), 4)
  }))

  it("rule 3: an X paused or unavailable (cause 6 aside), or without call right, is broken; only a paused X under carrier restriction looks temporary", check((f, e) => {
    if (f.accountBlocked !== undefined || gone(f)) return
    assert.strictEqual(e.verdict._tag === "XBroken", xDown(f))
    if (e.verdict._tag === "XBroken") {
      assert.strictEqual(e.verdict.temporary, f.xStatus?.status === "9" && f.xStatus.cause === "5")
    }
  }))

  it("rules 4-8: otherwise the existing binding is dialled (bindings-frozen X, direction, callee or transient failures included)", check((f, e) => {
    if (f.accountBlocked !== undefined || gone(f) || xDown(f)) return
    assert.strictEqual(e.verdict._tag, "UseX")
  }))

  it("nothing read from pushes or the cache is reused, and every source names its evidence", check((f, e) => {
    assert.isFalse(e.reusable)
    assert.match(e.source, /account blocked|binding query|binding cache|binding not cached|last call|X status push/)
    if (f.xStatus !== undefined && e.verdict._tag === "XBroken" && f.lastCallCode !== "stateCode:8055") assert.include(e.source, `X status push ${f.xStatus.status}`)
  }))
})

describe("examples, one per row", () => {
  const base: HuaweiFacts = { now: NOW, accountBlocked: undefined, cached: { expiresAt: NOW + 3_600_000 }, query: undefined, xStatus: undefined, lastCallCode: undefined }
  const tag = (f: Partial<HuaweiFacts>) => huaweiEvidence({ ...base, ...f }, undefined)

  it("each row of §6", () => {
    assert.deepStrictEqual(tag({ accountBlocked: "1010029" }).verdict, { _tag: "NothingDialable" })
    assert.deepStrictEqual(tag({ query: { _tag: "Gone", code: "1012007" } }).verdict, { _tag: "Expired" })
    assert.strictEqual(tag({ cached: { expiresAt: NOW - 1 } }).source, "binding cache: expired at 2026-12-04T02:59:59Z")
    assert.deepStrictEqual(tag({ lastCallCode: "stateCode:8014" }).verdict, { _tag: "Expired" })
    assert.deepStrictEqual(tag({ xStatus: { status: "10", cause: "2", at: NOW } }).verdict, { _tag: "XBroken", temporary: false })
    assert.strictEqual(tag({ xStatus: { status: "10", cause: "2", at: NOW } }).source, "X status push 10 (cause 2) at 2026-12-04T03:00:00Z")
    assert.deepStrictEqual(tag({ xStatus: { status: "9", cause: "5", at: NOW } }).verdict, { _tag: "XBroken", temporary: true })
    assert.deepStrictEqual(tag({ xStatus: { status: "9", cause: "6", at: NOW } }).verdict, { _tag: "UseX" })
    assert.deepStrictEqual(tag({ lastCallCode: "stateCode:8055" }).verdict, { _tag: "XBroken", temporary: false })
    // a bind or modify refused with 1012102 marked the X: broken, and the source says it was no push
    assert.deepStrictEqual(tag({ xStatus: { status: X_REFUSED_STATUS, cause: null, at: NOW } }).verdict, { _tag: "XBroken", temporary: false })
    assert.strictEqual(tag({ xStatus: { status: X_REFUSED_STATUS, cause: null, at: NOW } }).source, "X refused by bind/modify with 1012102 at 2026-12-04T03:00:00Z")
    assert.deepStrictEqual(tag({ accountBlocked: "1010007", xStatus: { status: X_REFUSED_STATUS, cause: null, at: NOW } }).verdict, { _tag: "NothingDialable" })
    assert.strictEqual(tag({ xStatus: { status: "11", cause: null, at: NOW } }).verdict._tag, "UseX")
    assert.strictEqual(tag({ lastCallCode: "stateCode:8016" }).verdict._tag, "UseX")
    assert.strictEqual(tag({ lastCallCode: "q850:17" }).verdict._tag, "UseX")
    assert.strictEqual(tag({}).source, "binding cache: in effect until 2026-12-04T04:00:00Z; no X status push")
  })

  it("the binding query is made only when nothing is cached or the cached binding is about to expire", () => {
    assert.isTrue(needsBindingQuery(undefined, NOW))
    assert.isTrue(needsBindingQuery({ expiresAt: NOW + NEAR_EXPIRY_MS - 1 }, NOW))
    assert.isFalse(needsBindingQuery({ expiresAt: NOW + NEAR_EXPIRY_MS }, NOW))
    assert.isFalse(needsBindingQuery({ expiresAt: null }, NOW))
    // already expired: the cache says so, no call needed
    assert.isFalse(needsBindingQuery({ expiresAt: NOW - 1 }, NOW))
  })
})
