/**
 * The keys decisions are shared under (src/engine/DecisionSharing.ts): requests that differ in any
 * one field never coalesce, status answers are never reused for another provider, binding or caller,
 * and no phone number appears in a key.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { DecideRequest } from "../../src/domain/request.ts"
import { sharingKeys } from "../../src/engine/DecisionSharing.ts"

const { requestKey, statusKey } = sharingKeys("test-secret")

const digits = (n: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: n, maxLength: n })
const realArb = fc.tuple(fc.constantFrom("138", "139"), digits(8)).map(([p, r]) => p + r)
const xArb = fc.tuple(fc.constantFrom("170", "171"), digits(8)).map(([p, r]) => p + r)
const opt = <A>(a: fc.Arbitrary<A>) => fc.option(a, { nil: undefined })

/** Every field a request can carry, each of them possibly absent. */
const fieldsArb = fc.record({
  provider: opt(fc.constantFrom("aliyun", "huawei")),
  poolKey: fc.constantFrom("FC100000000001", "FC100000000002"),
  subsId: fc.constantFrom("1000000123456789", "1000000123456780"),
  phoneNoX: xArb,
  extension: opt(fc.constantFrom("1", "12")),
  callerNo: opt(realArb),
  realCallee: opt(realArb),
  phoneNoA: opt(realArb),
  phoneNoB: opt(realArb),
  mode: opt(fc.constantFrom("AXB", "AXN", "AXN_EXTENSION"))
})
type Fields = typeof fieldsArb extends fc.Arbitrary<infer F> ? F : never
const FIELDS = ["provider", "poolKey", "subsId", "phoneNoX", "extension", "callerNo", "realCallee", "phoneNoA", "phoneNoB", "mode"] as const

const toRequest = (f: Partial<Record<keyof Fields, unknown>>): DecideRequest => {
  const out: Record<string, unknown> = {}
  const binding: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined) continue
    if (k === "phoneNoA" || k === "phoneNoB" || k === "mode") binding[k] = v
    else out[k] = v
  }
  if (Object.keys(binding).length > 0) out["binding"] = binding
  return out as DecideRequest
}

/** A value for `field` other than the one it has (or absent, when it can be). */
const otherValue = (field: (typeof FIELDS)[number], f: Fields): unknown => {
  const now = f[field]
  switch (field) {
    case "provider": return now === "aliyun" ? "huawei" : "aliyun"
    case "poolKey": return now === "FC100000000001" ? "FC100000000002" : "FC100000000001"
    case "subsId": return now === "1000000123456789" ? "1000000123456780" : "1000000123456789"
    case "phoneNoX": return now === "17000000001" ? "17000000002" : "17000000001"
    case "extension": return now === undefined ? "7" : undefined
    case "mode": return now === "AX" ? "AXB" : "AX"
    default: return now === undefined ? "13600136000" : undefined
  }
}

describe("request keys (coalescing)", () => {
  it("the same request gives the same key; changing any one field gives another", () =>
    fc.assert(fc.property(fieldsArb, fc.constantFrom(...FIELDS), (f, field) => {
      const key = requestKey(toRequest(f))
      assert.strictEqual(requestKey(toRequest({ ...f })), key)
      const changed = requestKey(toRequest({ ...f, [field]: otherValue(field, f) } as Fields))
      assert.notStrictEqual(changed, key, `${field} changed, same key`)
    }), { numRuns: 400, seed: 61 }))

  it("a value moved from one field to another is another request", () => {
    const a = toRequest({ poolKey: "FC1", subsId: "S1", phoneNoX: "17000000001", callerNo: "13800138000" })
    const b = toRequest({ poolKey: "FC1", subsId: "S1", phoneNoX: "17000000001", realCallee: "13800138000" })
    const c = toRequest({ poolKey: "FC1", subsId: "S1", phoneNoX: "17000000001", phoneNoA: "13800138000" })
    assert.strictEqual(new Set([requestKey(a), requestKey(b), requestKey(c)]).size, 3)
  })

  it("no phone number of the request appears in its key", () =>
    fc.assert(fc.property(fieldsArb, (f) => {
      const key = requestKey(toRequest(f))
      for (const n of [f.phoneNoX, f.callerNo, f.realCallee, f.phoneNoA, f.phoneNoB]) if (n !== undefined) assert.notInclude(key, n)
    }), { numRuns: 100, seed: 62 }))
})

describe("status keys (reuse of a status-1 answer)", () => {
  const base = ["FC100000000001", "1000000123456789", "13800138000", "aliyun"] as const

  it("differ in each of provider, pool, binding and caller; an unknown caller is a caller of its own", () => {
    const key = statusKey(...base)
    const variants = [
      statusKey("FC100000000002", base[1], base[2], base[3]),
      statusKey(base[0], "1000000123456780", base[2], base[3]),
      statusKey(base[0], base[1], "13900139000", base[3]),
      statusKey(base[0], base[1], undefined, base[3]),
      statusKey(base[0], base[1], base[2], "huawei")
    ]
    assert.strictEqual(new Set([key, ...variants]).size, 6)
    assert.strictEqual(statusKey(...base), key)
    assert.strictEqual(statusKey(base[0], base[1], undefined, base[3]), statusKey(base[0], base[1], undefined, base[3]))
  })
})
