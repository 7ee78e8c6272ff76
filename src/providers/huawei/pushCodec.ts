/**
 * Reading a Huawei push as the push route needs it (shared/providers/huawei.md §4): the X-AKSK /
 * X-WSSE UsernameToken verified against a configured app (signature.ts: each app with its own
 * scheme), and the JSON body decoded into one of the three push shapes. Pure functions: the route
 * adds the clock and replay checks.
 */
import { Result, Schema } from "effect"
import { schemaIssuesOf } from "../../evidence/issues.ts"
import type { HuaweiPushCodec, HuaweiPushView } from "./pushes.ts"
import { verifyUsernameToken } from "./signature.ts"

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

export const huaweiPushCodec: HuaweiPushCodec = { verify: verifyUsernameToken, parse: parseHuaweiPush }
