/**
 * Reading a Huawei push as the push route needs it (shared/providers/huawei.md §2 and §4): the
 * X-AKSK / X-WSSE UsernameToken verified against a configured app, and the JSON body decoded into
 * one of the three push shapes. Pure functions: the route adds the clock and replay checks.
 *
 * The platform signs pushes the way API callers sign requests: AKSK = Base64(HMAC-SHA256(secret,
 * Nonce + Created)), legacy WSSE = Base64(SHA-256(Nonce + Created + secret)). Each app is verified
 * with the scheme it is configured for only, so a WSSE digest never passes for an AKSK app.
 */
import { Redacted, Result, Schema } from "effect"
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import { schemaIssuesOf } from "./issues.ts"
import type { HuaweiPushCodec, HuaweiPushView, PushApp, VerifiedToken } from "./huaweiPushes.ts"

const digestOf = (auth: PushApp["auth"], secret: string, nonce: string, created: string): Buffer =>
  auth === "aksk"
    ? createHmac("sha256", secret).update(nonce + created).digest()
    : createHash("sha256").update(nonce + created + secret).digest()

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

/** The verified token of the push, when one configured app's digest matches. */
export const verifyPushToken = (headers: Readonly<Record<string, string | undefined>>, apps: ReadonlyArray<PushApp>): VerifiedToken | undefined => {
  for (const app of apps) {
    const value = headers[app.auth === "aksk" ? "x-aksk" : "x-wsse"]
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

const text = Schema.optional(Schema.String)
/** Codes arrive as numbers, or as digit strings in some payloads. */
const code = Schema.optional(Schema.Union([Schema.Int, Schema.String.check(Schema.isPattern(/^\d{1,5}$/))]))

const NumStatusPush = Schema.Struct({
  eventType: Schema.Literal("numStatus"),
  numInfo: Schema.Array(Schema.Struct({ number: Schema.NonEmptyString, status: Schema.NonEmptyString, cause: text })).check(Schema.isMaxLength(100))
})

const FeePush = Schema.Struct({
  eventType: Schema.Literal("fee"),
  feeLst: Schema.Array(Schema.Struct({
    sessionId: Schema.NonEmptyString,
    icid: text,
    bindNum: text,
    subscriptionId: text,
    fwdAnswerTime: text,
    callEndTime: text,
    failTime: text,
    fwdUnaswRsn: code,
    ulFailReason: code
  })).check(Schema.isMaxLength(50))
})

const CallEventPush = Schema.Struct({
  eventType: Schema.Literals(["callin", "callout", "alerting", "answer", "disconnect"]),
  statusInfo: Schema.Struct({
    sessionId: Schema.NonEmptyString,
    timestamp: text,
    subscriptionId: text,
    stateCode: Schema.optional(Schema.Int)
  })
})

const Push = Schema.Union([NumStatusPush, FeePush, CallEventPush])

/** The push body decoded, or every problem with its path. Fields the platform adds are ignored. */
export const parseHuaweiPush = (body: unknown): Result.Result<HuaweiPushView, ReadonlyArray<{ readonly path: string; readonly message: string }>> => {
  const decoded = Schema.decodeUnknownResult(Push)(body, { errors: "all" })
  return Result.isSuccess(decoded) ? Result.succeed(decoded.success) : Result.fail(schemaIssuesOf(decoded.failure.issue))
}

export const huaweiPushCodec: HuaweiPushCodec = { verify: verifyPushToken, parse: parseHuaweiPush }
