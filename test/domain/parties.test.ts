/**
 * Who the real callee is (issue 8): in AXB only a caller who is one of the two parties has a callee;
 * once the provider's detail is consulted its parties and mode win over the request's.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { BindingMode } from "../../src/domain/binding.ts"
import { canBind, partiesOfDetail, partiesOfRequest, realCalleeOf, requestCanBind } from "../../src/domain/parties.ts"

const digits = fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 8, maxLength: 8 })
const numberArb = fc.tuple(fc.constantFrom("138", "139", "136"), digits).map(([p, r]) => p + r)
const modeArb = fc.constantFrom<BindingMode>("AXB", "AXN", "AX", "AXN_EXTENSION")
const RUNS = { numRuns: 500, seed: 8 }

describe("realCalleeOf", () => {
  it("in AXB the callee is the other party when the caller is one of them, and nobody otherwise", () =>
    fc.assert(fc.property(numberArb, numberArb, fc.option(numberArb, { nil: undefined }), (a, b, caller) => {
      fc.pre(a !== b)
      const callee = realCalleeOf({ phoneNoA: a, phoneNoB: b, mode: "AXB" }, caller)
      if (caller === a) assert.strictEqual(callee, b)
      else if (caller === b) assert.strictEqual(callee, a)
      else assert.isUndefined(callee)
    }), RUNS))

  it("in AX, AXN and AXN_EXTENSION anyone but A reaches A", () =>
    fc.assert(fc.property(numberArb, fc.option(numberArb, { nil: undefined }), numberArb, fc.constantFrom<BindingMode>("AXN", "AX", "AXN_EXTENSION"), (a, b, caller, mode) => {
      fc.pre(caller !== a && caller !== b)
      assert.strictEqual(realCalleeOf({ phoneNoA: a, phoneNoB: b, mode }, caller), a)
    }), RUNS))

  it("a callee is always one of the parties: never the caller, never a number from elsewhere", () =>
    fc.assert(fc.property(fc.option(numberArb, { nil: undefined }), fc.option(numberArb, { nil: undefined }), modeArb, fc.option(numberArb, { nil: undefined }), (a, b, mode, caller) => {
      const callee = realCalleeOf({ phoneNoA: a, phoneNoB: b, mode }, caller)
      if (callee !== undefined) {
        assert.include([a, b], callee)
        if (caller !== undefined && a !== b) assert.notStrictEqual(callee, caller)
      }
    }), RUNS))
})

describe("the detail wins", () => {
  it("a B party in the detail means AXB whatever the request claimed, so a stranger gets no callee", () =>
    fc.assert(fc.property(numberArb, numberArb, numberArb, modeArb, (a, b, stranger, claimed) => {
      fc.pre(new Set([a, b, stranger]).size === 3)
      const fromDetail = partiesOfDetail({ phoneNoA: a, phoneNoB: b, extension: undefined })
      assert.strictEqual(fromDetail.mode, "AXB")
      assert.isUndefined(realCalleeOf(fromDetail, stranger))
      // what the request says does not enter into it
      assert.deepStrictEqual(partiesOfDetail({ phoneNoA: a, phoneNoB: b, extension: undefined }), fromDetail)
      assert.strictEqual(partiesOfRequest({ phoneNoA: a, phoneNoB: b, mode: claimed }, undefined).mode, claimed)
    }), RUNS))

  it("the detail's own mode is kept (Huawei tells AX from AXB by the API that answered)", () => {
    assert.strictEqual(partiesOfDetail({ phoneNoA: "13800138000", phoneNoB: "13900139000", extension: undefined, mode: "AX" }).mode, "AX")
    assert.strictEqual(partiesOfDetail({ phoneNoA: "13800138000", phoneNoB: undefined, extension: "12" }).mode, "AXN_EXTENSION")
    assert.strictEqual(partiesOfDetail({ phoneNoA: "13800138000", phoneNoB: undefined, extension: undefined }).mode, "AXN")
  })
})

describe("binding again", () => {
  it("the request alone is enough only with A, the mode and, for AXB, B", () => {
    assert.isTrue(requestCanBind({ phoneNoA: "13800138000", mode: "AXN" }))
    assert.isTrue(requestCanBind({ phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" }))
    assert.isFalse(requestCanBind({ phoneNoA: "13800138000", mode: "AXB" }))
    assert.isFalse(requestCanBind({ phoneNoA: "13800138000", phoneNoB: "13900139000" }))
    assert.isFalse(requestCanBind(undefined))
  })

  it("AXB parties without B cannot be bound", () => {
    assert.isFalse(canBind({ phoneNoA: "13800138000", phoneNoB: undefined, mode: "AXB" }))
    assert.isTrue(canBind({ phoneNoA: "13800138000", phoneNoB: undefined, mode: "AX" }))
    assert.isFalse(canBind({ phoneNoA: undefined, phoneNoB: "13900139000", mode: "AXN" }))
  })
})
