/** Huawei's E.164 numbers (huawei.md §1) to and from precall's national form: examples and properties. */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { normalizePhone } from "../../src/domain/phone.ts"
import { fromHuaweiNumber, toHuaweiNumber } from "../../src/providers/huawei/numbers.ts"

const mobile = fc.tuple(fc.integer({ min: 3, max: 9 }), fc.stringMatching(/^\d{9}$/)).map(([d, rest]) => `1${d}${rest}`)
/** 0 + a mainland area code (10, 2x, or three digits from 3-9) + a 7-8 digit local number. */
const fixedLine = fc.tuple(fc.stringMatching(/^(10|2\d|[3-9]\d\d)$/), fc.stringMatching(/^\d{7,8}$/)).map(([area, local]) => `0${area}${local}`)
const national = fc.oneof(mobile, fixedLine)
const RUNS = { numRuns: 500, seed: 86 }

describe("toHuaweiNumber", () => {
  it("examples: mobiles in every spelling, fixed lines without their trunk 0", () => {
    for (const n of ["13800138000", "8613800138000", "+8613800138000", "008613800138000", "+86 138-0013-8000"]) assert.strictEqual(toHuaweiNumber(n), "+8613800138000", n)
    assert.strictEqual(toHuaweiNumber("01012345678"), "+861012345678")
    assert.strictEqual(toHuaweiNumber("075512345678"), "+8675512345678")
    assert.strictEqual(toHuaweiNumber("+8675512345678"), "+8675512345678")
    assert.strictEqual(toHuaweiNumber("8675512345678"), "+8675512345678")
  })

  it("rejects what Huawei cannot bind", () => {
    for (const n of ["", "12345", "12800138000", "015000000000", "95588", "4001234567", "+12025550123", "138001380001", "abc"]) assert.isUndefined(toHuaweiNumber(n), n)
  })

  it("every national number becomes +86 E.164, whatever spelling it arrives in", () => {
    fc.assert(fc.property(national, fc.constantFrom("", "86", "+86", "0086"), (n, prefix) => {
      const input = prefix === "" ? n : `${prefix}${n.startsWith("0") ? n.slice(1) : n}`
      const e164 = toHuaweiNumber(input)
      assert.strictEqual(e164, `+86${n.startsWith("0") ? n.slice(1) : n}`)
      assert.match(e164!, /^\+86[1-9]\d{8,11}$/)
    }), RUNS)
  })
})

describe("fromHuaweiNumber", () => {
  it("round trip: national → E.164 → national is the identity, and agrees with the request's own normalisation", () => {
    fc.assert(fc.property(national, (n) => {
      const back = fromHuaweiNumber(toHuaweiNumber(n)!)
      assert.strictEqual(back, n)
      assert.strictEqual(back, normalizePhone(n))
    }), RUNS)
  })

  it("round trip: E.164 → national → E.164 is the identity", () => {
    fc.assert(fc.property(national, (n) => {
      const e164 = toHuaweiNumber(n)!
      assert.strictEqual(toHuaweiNumber(fromHuaweiNumber(e164)!), e164)
    }), RUNS)
  })

  it("a number that is not mainland is undefined, never passed through", () => {
    for (const n of ["+12025550123", "", "garbage", "+8695588"]) assert.isUndefined(fromHuaweiNumber(n), n)
  })
})
