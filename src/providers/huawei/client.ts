/**
 * Huawei privacy-call binding APIs (shared/providers/huawei.md §3) as signed JSON calls over the
 * effect HttpClient (undici in production). One method is one attempt: each signs afresh with a new
 * nonce and `Created`, so a retry by the engine is never a replay; timeouts and retries are the
 * engine's. Numbers go out as the caller gives them (the provider converts them to E.164 first).
 */
import { Clock, Effect, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { LocalCodes, ProviderError } from "../../domain/errors.ts"
import { maskNumbersIn } from "../../domain/phone.ts"
import { classifyHuaweiCode } from "./codes.ts"
import { jsonObjectOf } from "../replyBody.ts"
import { createdOf, type HuaweiApp, newNonce, signedHeaders } from "./signature.ts"

export const HUAWEI_PROVIDER = "huawei"
/** AXB: one URI, four methods (§3.1). */
export const AXB_PATH = "/rest/caas/relationnumber/partners/v1.0"
/** AX (§3.2). */
export const AX_PATH = "/rest/provision/caas/privatenumber/v1.0"

export interface HuaweiClientConfig {
  /** The APP access address, e.g. `https://rtcpns.cn-north-1.myhuaweicloud.com` or the emulator's loopback URL; no trailing slash. */
  readonly endpoint: string
  /** The AXB application. */
  readonly axb: HuaweiApp
  /** The AX application; without one, AX calls are signed with the AXB app (Huawei then answers 1010040). */
  readonly ax?: HuaweiApp | undefined
}

/** A reply body whose `resultcode` was `"0"`. */
export type HuaweiReply = Readonly<Record<string, unknown>>

/** Result codes and request fields are believed only as plain tokens: they go into decisions, logs and metric labels. */
const SAFE_CODE = /^[0-9A-Za-z._-]{1,32}$/

const failure = (action: string, code: string, message: string, httpStatus?: number) =>
  new ProviderError({
    provider: HUAWEI_PROVIDER, action, code, errorClass: classifyHuaweiCode(code), message: maskNumbersIn(message),
    ...(httpStatus === undefined ? {} : { httpStatus })
  })

/**
 * An HTTP reply as the body (`resultcode` "0" on a 2xx) or a classified ProviderError; never throws.
 * A coded reply keeps Huawei's code whatever the HTTP status; without a usable code (no JSON, no
 * `resultcode`, a code that is not a plain token) a 2xx is malformed and anything else is classified
 * by its status (401 "Invalid digest." comes without a code).
 */
export const interpretHuaweiReply = (action: string, status: number, text: string): HuaweiReply | ProviderError => {
  const record = jsonObjectOf(text)
  const code = record?.["resultcode"]
  if (typeof code === "string" && SAFE_CODE.test(code)) {
    if (code === "0" && status >= 200 && status < 300) return record!
    const desc = record?.["resultdesc"]
    return failure(action, code === "0" ? LocalCodes.httpStatus(status) : code, typeof desc === "string" ? desc : "", status)
  }
  const why = code === undefined ? "no resultcode" : "a resultcode that is not a plain token"
  if (status >= 200 && status < 300) return failure(action, LocalCodes.malformed, `reply is not a Huawei envelope (${why})`, status)
  return failure(action, LocalCodes.httpStatus(status), `HTTP ${status} without a Huawei result code: ${JSON.stringify(text.slice(0, 120))}`, status)
}

const Text = Schema.String
const OptionalText = Schema.optionalKey(Schema.NullOr(Schema.String))
/** Documented as int; accepted as a digit string too, as Huawei's samples are not consistent. */
const Int = Schema.Union([Schema.Int, Schema.FiniteFromString.check(Schema.isInt())])

export const AxbBindReply = Schema.Struct({ relationNum: Text, subscriptionId: Text })
export const AxbQueryReply = Schema.Struct({
  relationNumList: Schema.Array(Schema.Struct({
    subscriptionId: Text,
    relationNum: Text,
    callerNum: OptionalText,
    calleeNum: OptionalText,
    duration: Schema.optionalKey(Int),
    subscribeTime: OptionalText
  }))
})
export const AxBindReply = Schema.Struct({ privateNum: Text, subscriptionId: Text, origNum: OptionalText })
export const AxQueryReply = Schema.Struct({
  privateNumList: Schema.Array(Schema.Struct({ subscriptionId: Text, privateNum: Text, origNum: OptionalText }))
})
export const Envelope = Schema.Struct({})

const decodeReply = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, action: string) => (reply: HuaweiReply) =>
  Schema.decodeUnknownEffect(schema)(reply).pipe(
    Effect.mapError((e) => failure(action, LocalCodes.malformed, `reply does not match ${action}: ${e.message.split("\n")[0]}`))
  )

type Json = Readonly<Record<string, string | number | undefined>>

const defined = (fields: Json): Record<string, string | number> => {
  const out: Record<string, string | number> = {}
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v
  return out
}

/** The provider's names for its calls: limits, metrics and errors are keyed by them. */
export const huaweiActions = {
  axbBind: "AxbBind",
  axbModify: "AxbModify",
  axbQuery: "AxbQuery",
  axbUnbind: "AxbUnbind",
  axBind: "AxBind",
  axQuery: "AxQuery",
  axUnbind: "AxUnbind"
} as const

/** Huawei's AXB and AX binding calls, over the HttpClient in context. */
export const makeHuaweiClient = (config: HuaweiClientConfig) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const axApp = config.ax ?? config.axb

    const call = (app: HuaweiApp, method: "GET" | "POST" | "PUT" | "DELETE", path: string, action: string, fields: Json) =>
      Effect.gen(function*() {
        const created = createdOf(yield* Clock.currentTimeMillis)
        const base = HttpClientRequest.make(method)(`${config.endpoint}${path}`).pipe(
          HttpClientRequest.setHeaders({
            ...signedHeaders(app, newNonce(), created),
            accept: "application/json",
            // Huawei closes every connection after its reply (short connections). undici would keep
            // the socket for the next call, and a request written just as the server's FIN arrives
            // fails with a reset: harmless for a query, but a bind whose outcome is unknown cannot be
            // retried. `connection: close` makes undici open a fresh socket per call and never reuse one.
            connection: "close"
          })
        )
        // GET and DELETE carry their fields in the query string; URLSearchParams sends `+` as `%2B` (§1)
        const request = method === "GET" || method === "DELETE"
          ? HttpClientRequest.setUrlParams(base, Object.fromEntries(Object.entries(defined(fields)).map(([k, v]) => [k, String(v)])))
          : HttpClientRequest.bodyText(base, JSON.stringify(defined(fields)), "application/json;charset=UTF-8")
        const response = yield* client.execute(request).pipe(
          // no client span or trace headers to Huawei: the engine's metrics already time every attempt
          Effect.provideService(HttpClient.TracerDisabledWhen, () => true),
          Effect.provideService(HttpClient.TracerPropagationEnabled, false)
        )
        const reply = interpretHuaweiReply(action, response.status, yield* response.text)
        return reply instanceof ProviderError ? yield* reply : reply
      }).pipe(
        Effect.catchTag("HttpClientError", (e) =>
          Effect.fail(failure(action, LocalCodes.connection, `${e.reason._tag}: ${e.reason.description ?? e.message}`)))
      )

    return {
      axbBind: (body: {
        readonly callerNum: string
        readonly calleeNum: string
        readonly relationNum?: string | undefined
        readonly areaCode?: string | undefined
        readonly areaMatchMode?: "0" | "1" | undefined
        readonly duration: number
      }) => call(config.axb, "POST", AXB_PATH, huaweiActions.axbBind, body).pipe(Effect.flatMap(decodeReply(AxbBindReply, huaweiActions.axbBind))),
      axbModify: (body: { readonly subscriptionId: string; readonly callDirection?: number | undefined; readonly duration?: number | undefined }) =>
        call(config.axb, "PUT", AXB_PATH, huaweiActions.axbModify, body).pipe(Effect.flatMap(decodeReply(Envelope, huaweiActions.axbModify))),
      axbQuery: (subscriptionId: string) =>
        call(config.axb, "GET", AXB_PATH, huaweiActions.axbQuery, { subscriptionId }).pipe(
          Effect.flatMap(decodeReply(AxbQueryReply, huaweiActions.axbQuery))
        ),
      axbUnbind: (subscriptionId: string) =>
        call(config.axb, "DELETE", AXB_PATH, huaweiActions.axbUnbind, { subscriptionId }).pipe(
          Effect.flatMap(decodeReply(Envelope, huaweiActions.axbUnbind))
        ),
      axBind: (body: {
        readonly origNum: string
        readonly privateNum?: string | undefined
        readonly areaCode?: string | undefined
        readonly privateNumType?: "mobile-virtual" | undefined
        readonly areaMatchMode?: "0" | "1" | undefined
        readonly calleeNumDisplay: "0" | "1"
      }) => call(axApp, "POST", AX_PATH, huaweiActions.axBind, body).pipe(Effect.flatMap(decodeReply(AxBindReply, huaweiActions.axBind))),
      axQuery: (subscriptionId: string) =>
        call(axApp, "GET", AX_PATH, huaweiActions.axQuery, { subscriptionId }).pipe(Effect.flatMap(decodeReply(AxQueryReply, huaweiActions.axQuery))),
      axUnbind: (subscriptionId: string) =>
        call(axApp, "DELETE", AX_PATH, huaweiActions.axUnbind, { subscriptionId }).pipe(Effect.flatMap(decodeReply(Envelope, huaweiActions.axUnbind)))
    }
  })

export type HuaweiClient = Effect.Success<ReturnType<typeof makeHuaweiClient>>
