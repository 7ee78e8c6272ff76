/**
 * Huawei's UsernameToken request signing (shared/providers/huawei.md §2), used both ways: the
 * adapter signs its calls, the push route and the emulator verify. Two generations exist and an app
 * uses one of them: AKSK = Base64(HMAC-SHA256(APP_Secret, Nonce + Created)) under `X-AKSK`, legacy
 * WSSE = Base64(SHA-256(Nonce + Created + APP_Secret)) under `X-WSSE`. Each app is verified with its
 * own scheme only, so a WSSE digest never passes for an AKSK app.
 */
import { Redacted } from "effect"
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"

export type HuaweiAuth = "aksk" | "wsse"

/** An app's credentials and the scheme it signs with. */
export interface HuaweiApp {
  readonly appKey: string
  readonly appSecret: Redacted.Redacted<string>
  readonly auth: HuaweiAuth
}

/** The header carrying the token under each scheme (lower-case, as node delivers headers). */
export const tokenHeader = (auth: HuaweiAuth): "x-aksk" | "x-wsse" => auth === "aksk" ? "x-aksk" : "x-wsse"

/** The digest of `Nonce + Created` under the scheme, as raw bytes. */
export const digestOf = (auth: HuaweiAuth, secret: string, nonce: string, created: string): Buffer =>
  auth === "aksk"
    ? createHmac("sha256", secret).update(nonce + created).digest()
    : createHash("sha256").update(nonce + created + secret).digest()

/** `Created` as Huawei wants it: UTC, second precision, `2018-02-12T15:30:20Z`. */
export const createdOf = (epochMs: number): string => new Date(epochMs).toISOString().replace(/\.\d+Z$/, "Z")

/** A fresh nonce: 32 hex characters, as Huawei's samples use. */
export const newNonce = (): string => randomBytes(16).toString("hex").toUpperCase()

/** The two headers of a signed request: `Authorization` and the token header (its name by scheme). */
export const signedHeaders = (
  app: HuaweiApp,
  nonce: string,
  created: string
): Readonly<Record<string, string>> => {
  const digest = digestOf(app.auth, Redacted.value(app.appSecret), nonce, created).toString("base64")
  const scheme = app.auth === "aksk" ? "AKSK" : "WSSE"
  return {
    authorization: `${scheme} realm="SDP",profile="UsernameToken",type="Appkey"`,
    [tokenHeader(app.auth)]: `UsernameToken Username="${app.appKey}",PasswordDigest="${digest}",Nonce="${nonce}",Created="${created}"`
  }
}

const NONCE = /^[A-Za-z0-9]{1,128}$/
const CREATED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

/** The attributes of `UsernameToken Username="..",PasswordDigest="..",Nonce="..",Created=".."` (`,` or `, ` between them). */
export const parseUsernameToken = (value: string): Readonly<Record<string, string>> | undefined => {
  const m = /^UsernameToken\s+(.*)$/.exec(value.trim())
  if (m === null) return undefined
  const attributes: Record<string, string> = {}
  for (const part of m[1]!.split(/,\s*/)) {
    const kv = /^([A-Za-z]+)="([^"]*)"$/.exec(part.trim())
    if (kv === null) return undefined
    attributes[kv[1]!] = kv[2]!
  }
  return attributes
}

/** A token whose digest verified: who signed it, and its nonce and time for the freshness and replay checks. */
export interface VerifiedToken {
  readonly appKey: string
  readonly nonce: string
  /** Epoch ms of the token's `Created`. */
  readonly created: number
}

/** The verified token of a request or push, when one of `apps` signed it; else undefined. */
export const verifyUsernameToken = (
  headers: Readonly<Record<string, string | undefined>>,
  apps: ReadonlyArray<HuaweiApp>
): VerifiedToken | undefined => {
  for (const app of apps) {
    const value = headers[tokenHeader(app.auth)]
    const token = value === undefined ? undefined : parseUsernameToken(value)
    if (token === undefined || token["Username"] !== app.appKey) continue
    const nonce = token["Nonce"]
    const created = token["Created"]
    const presented = token["PasswordDigest"]
    if (nonce === undefined || !NONCE.test(nonce) || created === undefined || !CREATED.test(created) || presented === undefined) continue
    const at = Date.parse(created)
    if (!Number.isFinite(at)) continue
    const expected = digestOf(app.auth, Redacted.value(app.appSecret), nonce, created)
    const given = Buffer.from(presented, "base64")
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { appKey: app.appKey, nonce, created: at }
  }
  return undefined
}
