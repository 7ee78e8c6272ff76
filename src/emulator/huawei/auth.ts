/**
 * The privacy-call platform's request authentication (huawei.md §2): the `Authorization` header's
 * scheme and attributes, the scheme's token header (`X-AKSK` or `X-WSSE`) and its fields, the app key,
 * the digest (verified by the adapter's own signature module, each app under its own scheme only),
 * the `Created` freshness window and nonce replay. Each failing check answers its documented code.
 */
import type { IncomingHttpHeaders } from "node:http"
import { Redacted } from "effect"
import { parseUsernameToken, verifyUsernameToken } from "../../providers/huawei/signature.ts"
import type { HuaweiApp } from "../../providers/huawei/signature.ts"
import type { NonceStore } from "../aliyun/nonces.ts"
import type { ResolvedApp } from "./options.ts"
import { result } from "./results.ts"
import type { HuaweiResult } from "./results.ts"

/** 401 without a resultcode: huawei.md §3.4 shows "Invalid digest." with none (the adapter reads it by status). */
export const unauthorized = (resultdesc: string): HuaweiResult => ({ status: 401, resultcode: undefined, resultdesc })

export type AuthOutcome = { readonly ok: true; readonly app: ResolvedApp } | { readonly ok: false; readonly error: HuaweiResult }

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** The codes of each scheme's token checks: header missing, Username, Nonce, Created, PasswordDigest, Created malformed. */
const TOKEN_CODES = {
  AKSK: { header: "x-aksk", missing: "1023033", username: "1023034", nonce: "1023035", created: "1023036", digest: "1023037", createdFormat: "1023036" },
  WSSE: { header: "x-wsse", missing: "1023026", username: "1023027", nonce: "1023028", created: "1023029", digest: "1023030", createdFormat: "1023031" }
} as const

const CREATED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
const NONCE = /^[A-Za-z0-9]{1,128}$/

/** `realm="SDP",profile="UsernameToken",type="Appkey"` into its attributes; malformed parts are skipped. */
const attributesOf = (s: string): Readonly<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const part of s.split(/,\s*/)) {
    const kv = /^\s*([A-Za-z]+)="([^"]*)"\s*$/.exec(part)
    if (kv !== null) out[kv[1]!] = kv[2]!
  }
  return out
}

export interface AuthContext {
  readonly apps: ReadonlyArray<ResolvedApp>
  readonly nonces: NonceStore
  readonly skewMs: number
  /** Wall-clock now: clients sign with their own clocks, which an emulator clock advance must not break. */
  readonly now: number
}

export const authenticate = (headers: IncomingHttpHeaders, ctx: AuthContext): AuthOutcome => {
  const refuse = (error: HuaweiResult): AuthOutcome => ({ ok: false, error })
  const authorization = header(headers, "authorization")?.trim()
  if (authorization === undefined || authorization === "") return refuse(result("1023006"))
  const space = authorization.indexOf(" ")
  const scheme = space < 0 ? authorization : authorization.slice(0, space)
  if (scheme !== "AKSK" && scheme !== "WSSE") return refuse(result("1023013"))
  const attributes = attributesOf(space < 0 ? "" : authorization.slice(space + 1))
  if (attributes["realm"] === undefined) return refuse(result("1023007"))
  if (attributes["realm"] !== "SDP") return refuse(result("1023009"))
  if (attributes["profile"] === undefined) return refuse(result("1023008"))
  if (attributes["profile"] !== "UsernameToken") return refuse(result("1023010"))
  if (attributes["type"] === undefined) return refuse(result("1023012"))
  if (attributes["type"] !== "Appkey") return refuse(result("1023011"))

  const codes = TOKEN_CODES[scheme]
  const value = header(headers, codes.header)
  if (value === undefined || value.trim() === "") return refuse(result(codes.missing))
  const token = parseUsernameToken(value) ?? {}
  const username = token["Username"]
  if (username === undefined || username === "") return refuse(result(codes.username))
  const nonce = token["Nonce"]
  if (nonce === undefined || !NONCE.test(nonce)) return refuse(result(codes.nonce))
  const created = token["Created"]
  if (created === undefined || created === "") return refuse(result(codes.created))
  if (!CREATED.test(created) || !Number.isFinite(Date.parse(created))) return refuse(result(codes.createdFormat))
  if (token["PasswordDigest"] === undefined || token["PasswordDigest"] === "") return refuse(result(codes.digest))

  const app = ctx.apps.find((a) => a.appKey === username)
  if (app === undefined) return refuse(result("1010003"))
  // The app's own scheme only: a WSSE digest under X-AKSK (or the reverse) fails like a wrong secret.
  const verified = verifyUsernameToken({ [codes.header]: value }, [huaweiApp(app)])
  if (verified === undefined) return refuse(unauthorized("Invalid digest."))
  if (Math.abs(ctx.now - verified.created) > ctx.skewMs) return refuse(result("1010013"))
  // Nonces are per app: two apps may pick the same one without either being a replay.
  if (!ctx.nonces.claim(`${app.appKey}:${nonce}`, verified.created, ctx.now)) return refuse(unauthorized("Nonce has been used."))
  return { ok: true, app }
}

const apps = new WeakMap<ResolvedApp, HuaweiApp>()

/** The signature module's view of an app (its secret redacted), made once per app. */
export const huaweiApp = (app: ResolvedApp): HuaweiApp => {
  let a = apps.get(app)
  if (a === undefined) apps.set(app, (a = { appKey: app.appKey, appSecret: Redacted.make(app.appSecret), auth: app.auth }))
  return a
}
