/**
 * Huawei result codes (shared/providers/huawei.md §3.4) and reply interpretation. The expected table is
 * transcribed from the doc row by row, independently of src/providers/huawei/codes.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { type ErrorClass, ProviderError } from "../../src/domain/errors.ts"
import { interpretHuaweiReply } from "../../src/providers/huawei/client.ts"
import { classifyHuaweiCode, type HuaweiCodeKind, huaweiCodeKind, huaweiCodeKinds } from "../../src/providers/huawei/codes.ts"

const rows: ReadonlyArray<readonly [ReadonlyArray<string>, HuaweiCodeKind, ErrorClass]> = [
  [["1010001", "1023001", "1023002"], "transient", "transient"],
  [["1010002"], "caller-bug", "bad-input"],
  [["1010003"], "config", "configuration"],
  [["1010006"], "caller-bug", "bad-input"],
  [["1010007"], "account-blocked", "configuration"],
  [["1010008"], "account-blocked", "configuration"],
  [["1010010"], "throttled", "throttled"],
  [["1010013"], "auth", "configuration"],
  [["1010029"], "account-blocked", "configuration"],
  [["1010040"], "config", "configuration"],
  [["1011001"], "config", "configuration"],
  [["1011003"], "pool", "pool"],
  [["1011004", "1012001"], "binding-gone", "binding"],
  [["1011005"], "pool", "pool"],
  [["1012007", "1016001"], "binding-gone", "binding"],
  [["1012008"], "pool", "pool"], // the emulator's "no free X in the area" (not in §3.4)
  [["1012010"], "conflict", "binding"],
  [["1012102"], "x-broken", "pool"],
  [["1016002"], "conflict", "binding"],
  [["1020166"], "config", "configuration"],
  [["1020167"], "pool", "pool"],
  [["1020176"], "auth", "configuration"],
  [["1023006", "1023007", "1023008", "1023009", "1023010", "1023011", "1023012", "1023013"], "auth", "configuration"],
  [["1023026", "1023027", "1023028", "1023029", "1023030", "1023031"], "auth", "configuration"],
  [["1023033", "1023034", "1023035", "1023036", "1023037"], "auth", "configuration"]
]
const documented = rows.flatMap(([codes, kind, cls]) => codes.map((c) => [c, kind, cls] as const))

describe("classifyHuaweiCode (§3.4)", () => {
  it.each(documented)("%s is %s → %s", (code, kind, cls) => {
    assert.strictEqual(huaweiCodeKind(code), kind)
    assert.strictEqual(classifyHuaweiCode(code), cls)
  })

  it("the table holds exactly the documented codes, each once", () => {
    assert.deepStrictEqual([...huaweiCodeKinds.keys()].sort(), documented.map(([c]) => c).sort())
  })

  it("codes between the documented auth ranges are not auth (1023014-1023025, 1023032)", () => {
    for (const code of ["1023005", "1023014", "1023025", "1023032", "1023038"]) assert.strictEqual(huaweiCodeKind(code), "config", code)
  })

  it("unknown codes are configuration: never retried blindly", () => {
    fc.assert(fc.property(fc.stringMatching(/^\d{7}$/), (code) => {
      fc.pre(!huaweiCodeKinds.has(code))
      assert.strictEqual(classifyHuaweiCode(code), "configuration")
    }), { numRuns: 200, seed: 3 })
  })

  it("our own codes: transport and malformed are transient; HTTP statuses by family", () => {
    assert.strictEqual(classifyHuaweiCode("Transport.ConnectionError"), "transient")
    assert.strictEqual(classifyHuaweiCode("Transport.Timeout"), "transient")
    assert.strictEqual(classifyHuaweiCode("Reply.Malformed"), "transient")
    assert.strictEqual(classifyHuaweiCode("Reply.HttpStatus500"), "transient")
    assert.strictEqual(classifyHuaweiCode("Reply.HttpStatus503"), "transient")
    assert.strictEqual(classifyHuaweiCode("Reply.HttpStatus429"), "throttled")
    assert.strictEqual(huaweiCodeKind("Reply.HttpStatus401"), "auth")
    assert.strictEqual(classifyHuaweiCode("Reply.HttpStatus401"), "configuration")
    assert.strictEqual(classifyHuaweiCode("Reply.HttpStatus404"), "configuration")
  })
})

const fail = (reply: unknown): ProviderError => {
  assert.instanceOf(reply, ProviderError)
  return reply as ProviderError
}

describe("interpretHuaweiReply", () => {
  it("resultcode 0 on a 2xx is the body", () => {
    const body = { resultcode: "0", resultdesc: "Success", relationNum: "+8617000000001", subscriptionId: "s-1" }
    assert.deepStrictEqual(interpretHuaweiReply("AxbBind", 200, JSON.stringify(body)), body)
  })

  it("a coded refusal keeps Huawei's code, its class and HTTP status, whatever the status", () => {
    const e = fail(interpretHuaweiReply("AxbBind", 403, JSON.stringify({ resultcode: "1012001", resultdesc: "X not owned" })))
    assert.deepStrictEqual([e.provider, e.action, e.code, e.errorClass, e.httpStatus, e.message], ["huawei", "AxbBind", "1012001", "binding", 403, "X not owned"])
    const ok = fail(interpretHuaweiReply("AxbBind", 200, JSON.stringify({ resultcode: "1010010", resultdesc: "flow control" })))
    assert.deepStrictEqual([ok.code, ok.errorClass], ["1010010", "throttled"])
  })

  it("a number quoted in resultdesc is masked", () => {
    const e = fail(interpretHuaweiReply("AxbBind", 200, JSON.stringify({ resultcode: "1010002", resultdesc: "callerNum +8613800138000 is invalid" })))
    assert.notInclude(e.message, "13800138000")
    assert.include(e.message, "****8000")
  })

  it("a 2xx without an envelope, with bad JSON, without resultcode or with an unsafe code is malformed", () => {
    for (const text of ["", "not json", "[]", "{}", JSON.stringify({ resultdesc: "x" }), JSON.stringify({ resultcode: 0 }), JSON.stringify({ resultcode: "0 OR 1=1" }), JSON.stringify({ resultcode: "a".repeat(40) })]) {
      const e = fail(interpretHuaweiReply("AxbQuery", 200, text))
      assert.deepStrictEqual([e.code, e.errorClass], ["Reply.Malformed", "transient"], text)
    }
  })

  it("a non-2xx without a code is classified by its status (401 Invalid digest is auth)", () => {
    const e401 = fail(interpretHuaweiReply("AxbQuery", 401, "Invalid digest."))
    assert.deepStrictEqual([e401.code, e401.errorClass, e401.httpStatus], ["Reply.HttpStatus401", "configuration", 401])
    const e502 = fail(interpretHuaweiReply("AxbQuery", 502, "<html>bad gateway</html>"))
    assert.deepStrictEqual([e502.code, e502.errorClass], ["Reply.HttpStatus502", "transient"])
  })

  it("resultcode 0 on a non-2xx is not a success", () => {
    const e = fail(interpretHuaweiReply("AxbQuery", 500, JSON.stringify({ resultcode: "0" })))
    assert.deepStrictEqual([e.code, e.errorClass], ["Reply.HttpStatus500", "transient"])
  })

  it("never throws, whatever the body", () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 599 }), fc.oneof(fc.string(), fc.json()), (status, text) => {
      const r = interpretHuaweiReply("AxbQuery", status, text)
      if (r instanceof ProviderError) assert.match(r.code, /^[0-9A-Za-z._-]{1,32}$/)
    }), { numRuns: 300, seed: 5 })
  })
})
