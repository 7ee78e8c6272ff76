/**
 * The POP gateway's authentication: access key, timestamp window, signature (v1 HMAC-SHA1 or V3
 * ACS3-HMAC-SHA256) and nonce replay. Verification reuses the adapter's signing code, so the
 * emulator and the adapter cannot drift apart.
 */
import type { IncomingHttpHeaders } from "node:http"
import { parseAuthorizationV3, sha256Hex, stringToSignV1, stringToSignV3, V3_ALGORITHM, verifyV1, verifyV3 } from "../../providers/aliyun/signature.ts"
import type { V3Input } from "../../providers/aliyun/signature.ts"
import type { Params } from "./actions.ts"
import { parseAliyunTimestamp } from "./clock.ts"
import type { NonceStore } from "./nonces.ts"
import { gatewayError, missingParam } from "./render.ts"
import type { GatewayError } from "./render.ts"

/** Allowed skew between a request's timestamp and the real wall clock. */
export const TIMESTAMP_WINDOW_MS = 15 * 60_000

export interface SignedRequest {
  readonly method: string
  readonly path: string
  /** URL query parameters only (V3 signs these). */
  readonly query: Params
  /** Query and form body merged (v1 signs these). */
  readonly params: Params
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

export interface Credentials {
  readonly accessKeyId: string
  readonly accessKeySecret: string
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name]
  return Array.isArray(v) ? v.join(",") : v
}

const signatureMismatch = (stringToSign: string): GatewayError =>
  gatewayError("SignatureDoesNotMatch", `server string to sign is:${stringToSign}`)

const checkTimestamp = (raw: string, nowMs: number): GatewayError | number => {
  const t = parseAliyunTimestamp(raw)
  if (t === undefined) return gatewayError("InvalidTimeStamp.Format")
  return Math.abs(nowMs - t) > TIMESTAMP_WINDOW_MS ? gatewayError("InvalidTimeStamp.Expired") : t
}

/** Undefined when the request is authentic and fresh; else the gateway error to answer with. */
export const authenticate = (req: SignedRequest, creds: Credentials, nonces: NonceStore, nowMs: number): GatewayError | undefined => {
  const authorization = header(req.headers, "authorization")
  return authorization !== undefined && authorization.startsWith("ACS3-")
    ? authenticateV3(req, authorization, creds, nonces, nowMs)
    : authenticateV1(req, creds, nonces, nowMs)
}

const authenticateV1 = (req: SignedRequest, creds: Credentials, nonces: NonceStore, nowMs: number): GatewayError | undefined => {
  const p = req.params
  for (const name of ["AccessKeyId", "SignatureMethod", "Timestamp", "SignatureNonce", "Signature"]) {
    if (p[name] === undefined || p[name] === "") return missingParam(name)
  }
  if (p["AccessKeyId"] !== creds.accessKeyId) return gatewayError("InvalidAccessKeyId.NotFound")
  if (p["SignatureMethod"] !== "HMAC-SHA1") return gatewayError("InvalidSignatureMethod")
  const t = checkTimestamp(p["Timestamp"]!, nowMs)
  if (typeof t !== "number") return t
  if (!verifyV1(req.method, p, creds.accessKeySecret)) return signatureMismatch(stringToSignV1(req.method, p))
  return nonces.claim(p["SignatureNonce"]!, t, nowMs) ? undefined : gatewayError("SignatureNonceUsed")
}

/**
 * Headers a V3 signature must cover, as Aliyun requires: without them a signature could be replayed
 * with another action, version, time, nonce or body.
 */
export const REQUIRED_V3_SIGNED_HEADERS = ["host", "x-acs-date", "x-acs-signature-nonce", "x-acs-action", "x-acs-version", "x-acs-content-sha256"] as const

const authenticateV3 = (req: SignedRequest, authorization: string, creds: Credentials, nonces: NonceStore, nowMs: number): GatewayError | undefined => {
  if (!authorization.startsWith(`${V3_ALGORITHM} `)) return gatewayError("InvalidSignatureMethod")
  const auth = parseAuthorizationV3(authorization)
  if (auth === undefined) return gatewayError("IncompleteSignature")
  const signed = new Set(auth.signedHeaders.map((h) => h.toLowerCase()))
  if (REQUIRED_V3_SIGNED_HEADERS.some((h) => !signed.has(h))) return gatewayError("IncompleteSignature")
  if (auth.accessKeyId !== creds.accessKeyId) return gatewayError("InvalidAccessKeyId.NotFound")
  const date = header(req.headers, "x-acs-date")
  if (date === undefined) return missingParam("XAcsDate")
  const t = checkTimestamp(date, nowMs)
  if (typeof t !== "number") return t
  const nonce = header(req.headers, "x-acs-signature-nonce")
  if (nonce === undefined || nonce === "") return missingParam("XAcsSignatureNonce")
  const headers: Record<string, string> = {}
  for (const name of auth.signedHeaders) headers[name] = header(req.headers, name.toLowerCase()) ?? ""
  // The payload line uses the hash of the bytes received: a body that does not match the declared
  // x-acs-content-sha256 fails the signature like any other tampering.
  const input: V3Input = { method: req.method, path: req.path, query: req.query, headers, signedHeaders: auth.signedHeaders, hashedPayload: sha256Hex(req.body) }
  if (!verifyV3(input, auth.signature, creds.accessKeySecret)) return signatureMismatch(stringToSignV3(input))
  return nonces.claim(nonce, t, nowMs) ? undefined : gatewayError("SignatureNonceUsed")
}
