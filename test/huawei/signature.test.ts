/**
 * Reading Huawei pushes: the huawei.md §2 worked example verifies under both schemes, each app only
 * under its own scheme; malformed tokens and bodies are refused with their problems named.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redacted, Result } from "effect"
import { parseHuaweiPush } from "../../src/providers/huawei/pushCodec.ts"
import { createdOf, newNonce, parseUsernameToken, signedHeaders, verifyUsernameToken as verifyPushToken } from "../../src/providers/huawei/signature.ts"
import type { PushApp } from "../../src/providers/huawei/pushes.ts"

const aksk: PushApp = { appKey: "demoAppKey0001", appSecret: Redacted.make("demoAppSecret0001"), auth: "aksk" }
const wsse: PushApp = { ...aksk, auth: "wsse" }
const NONCE = "66C92B11FF8A425FB8D4CCFE0ED9ED1F"
const CREATED = "2018-02-12T15:30:20Z"
const token = (digest: string, sep = ",") =>
  `UsernameToken Username="demoAppKey0001"${sep}PasswordDigest="${digest}"${sep}Nonce="${NONCE}"${sep}Created="${CREATED}"`
const AKSK_DIGEST = "yThjwmbxf4YAoqe4VWDT8Gzp446V9TniRUpl+foMXEY="
const WSSE_DIGEST = "RBfys8yv8g/xUojgFzO+MBFa5K3pHOIzun+F7FQYVvI="

describe("push token", () => {
  it("the worked example verifies: AKSK with either separator, WSSE for a WSSE app", () => {
    const expected = { appKey: "demoAppKey0001", nonce: NONCE, created: Date.parse(CREATED) }
    assert.deepStrictEqual(verifyPushToken({ "x-aksk": token(AKSK_DIGEST) }, [aksk]), expected)
    assert.deepStrictEqual(verifyPushToken({ "x-aksk": token(AKSK_DIGEST, ", ") }, [aksk]), expected)
    assert.deepStrictEqual(verifyPushToken({ "x-wsse": token(WSSE_DIGEST) }, [wsse]), expected)
  })

  it("each app verifies under its own scheme only, with its own key and secret", () => {
    assert.isUndefined(verifyPushToken({ "x-aksk": token(WSSE_DIGEST) }, [aksk]), "the WSSE formula under the AKSK header")
    assert.isUndefined(verifyPushToken({ "x-wsse": token(WSSE_DIGEST) }, [aksk]))
    assert.isUndefined(verifyPushToken({ "x-aksk": token(AKSK_DIGEST) }, [{ ...aksk, appSecret: Redacted.make("other") }]))
    assert.isUndefined(verifyPushToken({ "x-aksk": token(AKSK_DIGEST) }, [{ ...aksk, appKey: "otherApp" }]))
    // the second configured app (e.g. the AX app) is tried too
    assert.isDefined(verifyPushToken({ "x-aksk": token(AKSK_DIGEST) }, [{ ...aksk, appKey: "axApp" }, aksk]))
  })

  it("malformed tokens are refused", () => {
    for (const value of [
      "",
      token(AKSK_DIGEST).replace("UsernameToken ", ""),
      token(AKSK_DIGEST).replace(CREATED, "2018-02-12T15:30:20.000Z"),
      token(AKSK_DIGEST).replace(CREATED, "2018-02-12 15:30:20"),
      token(AKSK_DIGEST).replace(NONCE, "nonce-with-dashes"),
      token(AKSK_DIGEST).replace(`,Nonce="${NONCE}"`, ""),
      token(AKSK_DIGEST.slice(0, 20))
    ]) assert.isUndefined(verifyPushToken({ "x-aksk": value }, [aksk]), value)
    assert.isUndefined(parseUsernameToken('UsernameToken Username="a",junk'))
  })
})

describe("push body", () => {
  it("reads the three push shapes, ignoring fields it does not use", () => {
    const status = parseHuaweiPush({ eventType: "numStatus", numInfo: [{ number: "+8617000000001", status: "10", cause: "2" }] })
    assert.isTrue(Result.isSuccess(status))
    const cdr = parseHuaweiPush({ eventType: "fee", feeLst: [{ sessionId: "s", icid: "i", bindNum: "+8617000000001", ulFailReason: "8055", spId: "x", recordFlag: 0 }] })
    assert.deepStrictEqual(Result.isSuccess(cdr) && "feeLst" in cdr.success ? cdr.success.feeLst[0]?.ulFailReason : undefined, "8055")
    const event = parseHuaweiPush({ eventType: "disconnect", statusInfo: { sessionId: "s", stateCode: 8055, stateDesc: "x", caller: "+86138" } })
    assert.isTrue(Result.isSuccess(event))
  })

  it("anything else is refused with what is wrong", () => {
    for (const body of [
      null,
      { eventType: "sms" },
      { eventType: "numStatus", numInfo: [{ status: "10" }] },
      { eventType: "numStatus", numInfo: Array(101).fill({ number: "1", status: "5" }) },
      { eventType: "fee", feeLst: [{ icid: "no session" }] },
      { eventType: "disconnect", statusInfo: { sessionId: "s", stateCode: "busy" } }
    ]) {
      const r = parseHuaweiPush(body)
      assert.isTrue(Result.isFailure(r), JSON.stringify(body).slice(0, 60))
      if (Result.isFailure(r)) assert.isAbove(r.failure.length, 0)
    }
  })
})

describe("request signing", () => {
  it("signs the worked example as huawei.md §2 prints it, under each scheme's header", () => {
    const a = signedHeaders(aksk, NONCE, CREATED)
    assert.strictEqual(a["authorization"], 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"')
    assert.strictEqual(a["x-aksk"], token(AKSK_DIGEST))
    const w = signedHeaders(wsse, NONCE, CREATED)
    assert.strictEqual(w["authorization"], 'WSSE realm="SDP",profile="UsernameToken",type="Appkey"')
    assert.strictEqual(w["x-wsse"], token(WSSE_DIGEST))
  })

  it("Created has second precision in UTC; nonces are 32 hex characters and differ", () => {
    assert.strictEqual(createdOf(Date.UTC(2018, 1, 12, 15, 30, 20, 987)), CREATED)
    const n = newNonce()
    assert.match(n, /^[0-9A-F]{32}$/)
    assert.notStrictEqual(n, newNonce())
  })

  it("what it signs verifies, for the signing app only", () => {
    const created = createdOf(Date.now())
    const headers = signedHeaders(aksk, "abc123", created)
    assert.strictEqual(verifyPushToken(headers, [aksk])?.nonce, "abc123")
    assert.isUndefined(verifyPushToken(headers, [wsse]))
  })
})
