/**
 * The V3-signed QueryCallStatus precall sends, built with precall's own signing functions: shared by
 * the contenders that make that call without precall's pipeline (the floor, the effect-http rung and
 * the skeleton service), so they all send byte-for-byte the request precall sends.
 */
import { randomUUID } from "node:crypto"
import { DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET } from "../src/providers/aliyun/credentials.ts"
import { DYPLS_VERSION } from "../src/providers/aliyun/dypls.ts"
import { aliyunTimestamp, authorizationV3, percentEncode, sha256Hex } from "../src/providers/aliyun/signature.ts"

export interface StatusTarget {
  readonly poolKey: string
  readonly subsId: string
  readonly callerNo: string
}

const EMPTY_SHA256 = sha256Hex("")

/** URL and headers of one QueryCallStatus for `t`; a fresh nonce and timestamp each time. */
export const signedQueryCallStatus = (endpoint: string, host: string, t: StatusTarget) => {
  const params: Record<string, string> = { CallNo: t.callerNo, PoolKey: t.poolKey, SubsId: t.subsId }
  const headers: Record<string, string> = {
    host,
    "x-acs-action": "QueryCallStatus",
    "x-acs-version": DYPLS_VERSION,
    "x-acs-date": aliyunTimestamp(Date.now()),
    "x-acs-signature-nonce": randomUUID(),
    "x-acs-content-sha256": EMPTY_SHA256
  }
  const authorization = authorizationV3(
    { method: "POST", path: "/", query: params, headers, signedHeaders: Object.keys(headers), hashedPayload: EMPTY_SHA256 },
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET
  )
  const { host: _host, ...sent } = headers // undici derives host from the URL, as in client.ts
  const qs = Object.keys(params).sort().map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`).join("&")
  return { url: `${endpoint}/?${qs}`, headers: { ...sent, authorization } }
}
