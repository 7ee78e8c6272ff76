/**
 * The decision route's payload decode (body.ts decodeDecideRequest) against the decode PrecallApi
 * runs (every issue, excess keys refused): the same requests accepted, the same values, the same issues.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import * as fc from "fast-check"
import { DecideRequest } from "../../src/domain/request.ts"
import { schemaIssues } from "../../src/precall.ts"
import { decodeDecideRequest } from "../../src/service/body.ts"

const asPrecallApi = Schema.decodeUnknownResult(Schema.toCodecJson(DecideRequest))

const field = fc.oneof(
  fc.constantFrom("FC100000000001", "1000000123456789", "17000000001", "13800000002", "aliyun", "1234", "AXB", "", "x"),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.constant(null)
)
const valid = { poolKey: "FC100000000001", subsId: "1000000123456789", phoneNoX: "17000000001" }
/** Known keys with values that mostly decode, now and then an excess key, at the top or in `binding`. */
const excess = fc.dictionary(fc.constantFrom("extra", "callerno", "__proto__x", "mode", "phoneNoA", "poolKey"), field, { maxKeys: 2 })
const binding = fc.tuple(
  fc.record({ phoneNoA: fc.constantFrom("13800000001", "1"), phoneNoB: fc.constantFrom("13900000002"), mode: fc.constantFrom("AXB", "AXE") }, { requiredKeys: [] }),
  fc.option(excess, { nil: undefined })
).map(([known, more]) => ({ ...more, ...known }))
const request = fc.tuple(
  fc.record({ callerNo: fc.constantFrom("13800000002", "12"), provider: fc.constantFrom("aliyun", "Aliyun"), binding, extension: field }, { requiredKeys: [] }),
  fc.option(excess, { nil: undefined }),
  fc.boolean()
).map(([known, more, complete]) => ({ ...(complete ? valid : { poolKey: valid.poolKey }), ...more, ...known }))

describe("the decision route's payload decode", () => {
  it("accepts and rejects as PrecallApi does, with the same value or the same issues", () => {
    fc.assert(fc.property(fc.oneof(request, fc.anything()), (input) => {
      const expected = asPrecallApi(input, { errors: "all", onExcessProperty: "error" })
      const got = decodeDecideRequest(input)
      if (Result.isSuccess(expected)) {
        assert.isTrue(Result.isSuccess(got), `rejected ${JSON.stringify(input)}`)
        if (Result.isSuccess(got)) assert.deepStrictEqual(got.success, expected.success)
      } else {
        assert.isTrue(Result.isFailure(got), `accepted ${JSON.stringify(input)}`)
        if (Result.isFailure(got)) assert.deepStrictEqual(schemaIssues(got.failure), schemaIssues(expected.failure.issue))
      }
    }), { numRuns: 1000 })
  })

  it("refuses a key the request does not have, at the top and inside the binding", () => {
    assert.isTrue(Result.isSuccess(decodeDecideRequest({ ...valid, binding: { mode: "AXB" } })))
    for (const input of [{ ...valid, callerno: "13800000002" }, { ...valid, binding: { mode: "AXB", phoneNoC: "13800000002" } }]) {
      const got = decodeDecideRequest(input)
      assert.isTrue(Result.isFailure(got), JSON.stringify(input))
    }
  })
})
