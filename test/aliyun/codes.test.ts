/**
 * Aliyun code classification (shared/providers/aliyun.md §5, §7) and reply interpretation. The
 * expected table below is transcribed from the doc, independently of src/providers/aliyun/codes.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { type ErrorClass, ProviderError } from "../../src/domain/errors.ts"
import { interpretReply } from "../../src/providers/aliyun/client.ts"
import { classifyAliyunCode } from "../../src/providers/aliyun/codes.ts"
import { beijingTime } from "../../src/providers/aliyun/dypls.ts"

const T: ErrorClass = "transient"
const Q: ErrorClass = "throttled"
const B: ErrorClass = "binding"
const P: ErrorClass = "pool"
const C: ErrorClass = "configuration"
const I: ErrorClass = "bad-input"

/** §7 "Dyplsapi error codes and engine classification", one row per code. */
const section7: ReadonlyArray<readonly [string, ErrorClass]> = [
  ["isp.SYSTEM_ERROR", T],
  ["isp.DAO_EXCEPTION", T],
  ["isp.UNKNOWN_ERR_CODE", T],
  ["isp.GATEWAY_ERROR", T],
  ["isv.PARTNER_NOT_EXIST", T],
  ["isv.FLOW_LIMIT", Q],
  ["isv.NO_AVAILABLE_NUMBER", P],
  ["isp.VENDOR_UNAVAILABLE", P],
  ["isv.VENDOR_BIND_FAILED", P],
  ["isv.NO_USED_BY_OTHERS", P],
  ["isv.SUBS_NOT_EXIST", B],
  ["isv.BIND_CONFLICT", B],
  ["isv.UPDATE_CONFLICT", B],
  ["isv.NO_NOT_EXIST", B],
  ["isv.EXPIRE_DATE_ILLEGAL", I],
  ["isv.MOBILE_NUMBER_ILLEGAL", I],
  ["isv.ILLEGAL_ARGUMENT", I],
  ["isv.INVALID_PARAMETERS", I],
  ["isp.RAM_PERMISSION_DENY", C],
  ["isv.OUT_OF_SERVICE", C],
  ["isv.PRODUCT_UN_SUBSCRIPT", C],
  ["isv.PRODUCT_UNSUBSCRIBE", C],
  ["isv.ACCOUNT_NOT_EXISTS", C],
  ["isv.ACCOUNT_ABNORMAL", C],
  ["isv.PARTNER_IS_CLOSED", C],
  ["isv.POOLKEY_NOT_EXISTS", C],
  ["isv.SUBS_NOT_BELONG", C],
  ["isv.BUY_NUM_OVER_LIMIT", C],
  ["Throttling.User", Q],
  ["Throttling.Api", Q],
  ["Throttling", Q],
  ["SignatureNonceUsed", T],
  ["InvalidTimeStamp.Expired", C],
  ["InternalError", T],
  ["ServiceUnavailable", T],
  // "non-JSON 5xx" and local transport failures
  ["Reply.HttpStatus500", T],
  ["Reply.HttpStatus502", T],
  ["Reply.HttpStatus503", T],
  ["Reply.HttpStatus504", T],
  ["Transport.ConnectionError", T],
  ["Transport.Timeout", T],
  ["SignatureDoesNotMatch", C],
  ["InvalidAccessKeyId.NotFound", C],
  ["InvalidAccessKeyId.Inactive", C],
  ["Forbidden.RAM", C],
  ["InvalidApi.NotFound", C],
  ["InvalidAction.NotFound", C],
  ["InvalidProduct.NotFound", C],
  ["InvalidVersion", C],
  ["InvalidSignatureMethod", C],
  ["MissingPoolKey", I],
  ["MissingSubsId", I],
  ["MissingPhoneNoA", I],
  ["InvalidPoolKey", I],
  ["InvalidPhoneNoX", I],
  ["InvalidTimeStamp.Format", I],
  ["InvalidParameter.Format", I]
]

/** §5 gateway table codes not already named in §7, with the class their §7 family gives them. */
const section5: ReadonlyArray<readonly [string, ErrorClass]> = [
  ["UnsupportedHTTPMethod", C], // listed with InvalidSignatureMethod / InvalidVersion: "verb not accepted"
  ["InvalidProtocol.NeedSsl", C], // listed with InvalidProduct.NotFound: wrong host / HTTPS required
  ["InvalidAccessKeyId.NotFound", C],
  ["InvalidAccessKeyId.Inactive", C],
  ["InvalidApi.NotFound", C],
  ["InvalidAction.NotFound", C]
]

/** §6: every code in the QueryCallStatus doc's error list (besides OK) is classified by §7. */
const queryCallStatusDocCodes = [
  "isp.RAM_PERMISSION_DENY", "isv.OUT_OF_SERVICE", "isv.PRODUCT_UN_SUBSCRIPT", "isv.PRODUCT_UNSUBSCRIBE",
  "isv.ACCOUNT_NOT_EXISTS", "isv.ACCOUNT_ABNORMAL", "isp.SYSTEM_ERROR", "isv.PARTNER_NOT_EXIST", "isv.NO_NOT_EXIST",
  "isv.ILLEGAL_ARGUMENT", "isp.DAO_EXCEPTION", "isv.NO_AVAILABLE_NUMBER", "isp.VENDOR_UNAVAILABLE", "isv.FLOW_LIMIT",
  "isv.PARTNER_IS_CLOSED", "isv.FORBIDDEN_ACTION", "isv.NO_USED_BY_OTHERS", "isv.EXPIRE_DATE_ILLEGAL",
  "isv.MOBILE_NUMBER_ILLEGAL", "isv.BIND_CONFLICT"
]

describe("classifyAliyunCode", () => {
  it.each(section7)("§7 %s → %s", (code, expected) => {
    assert.strictEqual(classifyAliyunCode(code), expected)
    // A message never changes the class of a code other than isv.FORBIDDEN_ACTION.
    assert.strictEqual(classifyAliyunCode(code, "binding expired"), expected)
  })

  it.each(section5)("§5 %s → %s", (code, expected) => {
    assert.strictEqual(classifyAliyunCode(code), expected)
  })

  it("the QueryCallStatus doc's error list is covered by the §7 table", () => {
    const table = new Map(section7)
    for (const code of queryCallStatusDocCodes) {
      if (code === "isv.FORBIDDEN_ACTION") continue
      assert.isTrue(table.has(code), code)
      assert.strictEqual(classifyAliyunCode(code), table.get(code), code)
    }
  })

  it("isv.FORBIDDEN_ACTION is binding when its message says the binding expired, configuration otherwise", () => {
    assert.strictEqual(classifyAliyunCode("isv.FORBIDDEN_ACTION", "binding expired, update the binding"), B)
    assert.strictEqual(classifyAliyunCode("isv.FORBIDDEN_ACTION", "The binding has EXPIRED"), B)
    assert.strictEqual(classifyAliyunCode("isv.FORBIDDEN_ACTION", "绑定关系已过期"), B)
    assert.strictEqual(classifyAliyunCode("isv.FORBIDDEN_ACTION", "X is not in this pool"), C)
    assert.strictEqual(classifyAliyunCode("isv.FORBIDDEN_ACTION", "pool is not AXG"), C)
    assert.strictEqual(classifyAliyunCode("isv.FORBIDDEN_ACTION"), C)
  })

  it("unknown isp.* codes are transient", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][A-Z_]{2,20}$/), (suffix) => {
        const code = `isp.${suffix}`
        fc.pre(!section7.some(([c]) => c === code))
        assert.strictEqual(classifyAliyunCode(code), T)
      }),
      { numRuns: 100, seed: 7 }
    )
    assert.strictEqual(classifyAliyunCode("isp.SOMETHING_NEW"), T)
  })

  it("unknown non-isp codes are configuration (never retried blindly)", () => {
    for (const code of ["isv.SOMETHING_NEW", "Weird.Code", "", "OK_BUT_NOT", "Foo"]) {
      assert.strictEqual(classifyAliyunCode(code), C, code)
    }
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][A-Z_]{2,20}$/), (suffix) => {
        const code = `isv.${suffix}`
        fc.pre(!section7.some(([c]) => c === code) && code !== "isv.FORBIDDEN_ACTION")
        assert.strictEqual(classifyAliyunCode(code), C)
      }),
      { numRuns: 100, seed: 8 }
    )
  })

  it("Missing<Param> and Invalid<Param> are bad-input for any parameter name", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][A-Za-z]{1,15}$/), (param) => {
        fc.pre(!["AccessKeyId", "TimeStamp", "Version", "SignatureMethod", "Protocol"].includes(param))
        assert.strictEqual(classifyAliyunCode(`Missing${param}`), I)
        assert.strictEqual(classifyAliyunCode(`Invalid${param}`), I)
      }),
      { numRuns: 100, seed: 9 }
    )
  })

  it("Invalid<Thing>.NotFound is configuration for any thing", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z][A-Za-z]{1,15}$/), (thing) => {
        assert.strictEqual(classifyAliyunCode(`Invalid${thing}.NotFound`), C)
      }),
      { numRuns: 50, seed: 10 }
    )
  })
})

describe("interpretReply", () => {
  it("HTTP 200 with Code OK returns the body", () => {
    const text = JSON.stringify({ RequestId: "r-1", Code: "OK", Message: "OK", SecretCallStatusDTO: { Status: 1, CalledNo: "17000000001" } })
    const reply = interpretReply("QueryCallStatus", 200, text, undefined)
    assert.notInstanceOf(reply, ProviderError)
    assert.deepStrictEqual(reply, JSON.parse(text))
  })

  it("HTTP 200 with a business code is a ProviderError keeping code, class, message and requestId", () => {
    const reply = interpretReply(
      "BindAxb",
      200,
      JSON.stringify({ RequestId: "r-2", Code: "isv.NO_AVAILABLE_NUMBER", Message: "no number available" }),
      undefined
    )
    assert.instanceOf(reply, ProviderError)
    const e = reply as ProviderError
    assert.strictEqual(e.provider, "aliyun")
    assert.strictEqual(e.action, "BindAxb")
    assert.strictEqual(e.code, "isv.NO_AVAILABLE_NUMBER")
    assert.strictEqual(e.errorClass, P)
    assert.strictEqual(e.message, "no number available")
    assert.strictEqual(e.requestId, "r-2")
    assert.strictEqual(e.httpStatus, 200)
    assert.isUndefined(e.retryAfterMs)
  })

  it("HTTP 200 isv.FORBIDDEN_ACTION with an expiry message is a binding error", () => {
    const reply = interpretReply(
      "UpdateSubscription",
      200,
      JSON.stringify({ RequestId: "r-3", Code: "isv.FORBIDDEN_ACTION", Message: "binding expired, update the binding" }),
      undefined
    )
    assert.instanceOf(reply, ProviderError)
    assert.strictEqual((reply as ProviderError).errorClass, B)
  })

  it("gateway 400 Throttling.User with x-acs-retry-after is throttled and keeps the hint", () => {
    const body = JSON.stringify({
      RequestId: "r-4", Code: "Throttling.User", Message: "Request was denied due to user flow control.",
      HostId: "dyplsapi.aliyuncs.com", Recommend: "https://api.aliyun.com/troubleshoot?q=Throttling.User"
    })
    const reply = interpretReply("QueryCallStatus", 400, body, "1500")
    assert.instanceOf(reply, ProviderError)
    const e = reply as ProviderError
    assert.strictEqual(e.code, "Throttling.User")
    assert.strictEqual(e.errorClass, Q)
    assert.strictEqual(e.httpStatus, 400)
    assert.strictEqual(e.requestId, "r-4")
    assert.strictEqual(e.retryAfterMs, 1500)
  })

  it("an unusable x-acs-retry-after is ignored", () => {
    const body = JSON.stringify({ RequestId: "r-5", Code: "Throttling.Api", Message: "throttled" })
    for (const header of [undefined, "soon", "-5", ""]) {
      const e = interpretReply("QueryCallStatus", 400, body, header) as ProviderError
      assert.strictEqual(e.errorClass, Q)
      if (header !== "") assert.isUndefined(e.retryAfterMs, String(header))
    }
  })

  it("503 with an HTML body is Reply.HttpStatus503, transient", () => {
    const reply = interpretReply("QueryCallStatus", 503, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", undefined)
    assert.instanceOf(reply, ProviderError)
    const e = reply as ProviderError
    assert.strictEqual(e.code, "Reply.HttpStatus503")
    assert.strictEqual(e.errorClass, T)
    assert.strictEqual(e.httpStatus, 503)
    assert.isUndefined(e.requestId)
  })

  it("500 with an InternalError body is transient and keeps the code", () => {
    const e = interpretReply("QueryCallStatus", 500, JSON.stringify({ RequestId: "r-6", Code: "InternalError", Message: "x" }), undefined) as ProviderError
    assert.strictEqual(e.code, "InternalError")
    assert.strictEqual(e.errorClass, T)
  })

  it("404 InvalidAccessKeyId.NotFound is configuration", () => {
    const e = interpretReply("QueryCallStatus", 404, JSON.stringify({ RequestId: "r-7", Code: "InvalidAccessKeyId.NotFound", Message: "Specified access key is not found." }), undefined) as ProviderError
    assert.strictEqual(e.errorClass, C)
    assert.strictEqual(e.httpStatus, 404)
  })

  it("HTTP 200 that is not a JSON envelope is Reply.Malformed", () => {
    for (const text of ["<xml/>", "", "not json", "[1,2]", "null", "42", "\"OK\""]) {
      const reply = interpretReply("QueryCallStatus", 200, text, undefined)
      assert.instanceOf(reply, ProviderError, text)
      const e = reply as ProviderError
      assert.strictEqual(e.code, "Reply.Malformed", text)
      assert.strictEqual(e.httpStatus, 200)
    }
  })

  it("never throws, whatever the status and text", () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.oneof(fc.string(), fc.json()), fc.option(fc.string(), { nil: undefined }), (status, text, header) => {
        const reply = interpretReply("QueryCallStatus", status, text, header)
        if (!(reply instanceof ProviderError)) {
          // Only a 2xx with Code OK is a success.
          assert.isTrue(status >= 200 && status < 300)
          assert.strictEqual(reply["Code"], "OK")
        }
      }),
      { numRuns: 200, seed: 12 }
    )
  })
})

describe("interpretReply: Code and RequestId shapes", () => {
  it.each([
    ["a Code with spaces", { Code: "OK then", RequestId: "r-1" }],
    ["a Code quoting a number", { Code: "isv.13800138000 blocked!", RequestId: "r-1" }],
    ["a Code of 65 characters", { Code: "A".repeat(65), RequestId: "r-1" }],
    ["a Code that is not a string", { Code: 1, RequestId: "r-1" }],
    ["a RequestId with a newline", { Code: "OK", RequestId: "r-1\nforged log line" }],
    ["a RequestId that is an object", { Code: "OK", RequestId: { id: 1 } }]
  ])("%s is a malformed reply, whatever the HTTP status", (_, body) => {
    for (const status of [200, 400]) {
      const reply = interpretReply("QueryCallStatus", status, JSON.stringify({ ...body, SecretCallStatusDTO: { Status: 1 } }), undefined)
      assert.instanceOf(reply, ProviderError)
      assert.strictEqual((reply as ProviderError).code, "Reply.Malformed")
      assert.notInclude((reply as ProviderError).message, "13800138000")
    }
  })

  it("plain tokens up to 64 characters are believed", () => {
    const reply = interpretReply("BindAxb", 200, JSON.stringify({ Code: "isv.NO_AVAILABLE_NUMBER", RequestId: "5C1E0F3A-0000-4000-8000-000000000000" }), undefined)
    assert.strictEqual((reply as ProviderError).code, "isv.NO_AVAILABLE_NUMBER")
    assert.strictEqual((reply as ProviderError).requestId, "5C1E0F3A-0000-4000-8000-000000000000")
  })
})

describe("beijingTime", () => {
  it("renders UTC+8 as yyyy-MM-dd HH:mm:ss", () => {
    assert.strictEqual(beijingTime(Date.UTC(2026, 0, 2, 3, 4, 5)), "2026-01-02 11:04:05")
    assert.strictEqual(beijingTime(Date.UTC(2026, 0, 1, 20, 0, 0)), "2026-01-02 04:00:00") // crosses midnight
    assert.strictEqual(beijingTime(Date.UTC(2025, 11, 31, 16, 30, 59, 999)), "2026-01-01 00:30:59") // and the year
  })

  it("is always 8 hours ahead of the UTC wall clock", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2090, 0, 1) }), (t) => {
        const s = beijingTime(t)
        assert.match(s, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
        const asUtc = Date.parse(`${s.replace(" ", "T")}Z`)
        assert.strictEqual(asUtc - Math.floor(t / 1000) * 1000, 8 * 3600_000)
      }),
      { numRuns: 200, seed: 13 }
    )
  })
})
