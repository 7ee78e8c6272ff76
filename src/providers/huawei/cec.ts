/**
 * Huawei CEC (contact center) mobile-agent call state (shared/providers/huawei.md §5) as precall's
 * call-state source: an outcome reported with only a `callSerialNo` is looked up here. The bearer
 * token comes from `tokenByAkSk` and lives in effect's Cache: concurrent callers share the one
 * lookup in flight, and the entry expires a margin before the token does, so the refresh happens
 * before Huawei refuses it. A refused token (401) is dropped at once and the query asked once more.
 */
import { Cache, Clock, Data, Duration, Effect, Exit, Redacted, Schema } from "effect"
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { maskNumbersIn } from "../../domain/phone.ts"
import { classifyForwardedQ850, type OutcomeClass } from "../../evidence/classes.ts"
import { type CallState, CallStateUnavailable, type CallStateSourceShape } from "../../evidence/outcomes.ts"

export const TOKEN_PATH = "/apigovernance/api/oauth/tokenByAkSk"
export const QUERY_CALL_STATE_PATH = "/apiaccess/CC-Management/v1/mobileAgent/queryCallState"

export interface CecConfig {
  /** e.g. `https://service.besclouds.com`, no trailing slash. */
  readonly endpoint: string
  readonly ak: string
  readonly sk: Redacted.Redacted<string>
  /** Lifetime asked for in `X-Token-Expire`, seconds; default 600 (one page gives 3600 as the maximum). */
  readonly tokenExpireS?: number | undefined
}

/** A token and how long precall may use it. */
export interface CecToken {
  readonly accessToken: Redacted.Redacted<string>
  /** Milliseconds from receipt until it must be refreshed (already less the margin). */
  readonly useForMs: number
}

/** Refresh this long before the token runs out: a tenth of its life, at most a minute. */
export const refreshMarginMs = (lifetimeMs: number): number => Math.min(60_000, lifetimeMs / 10)

/** Huawei's reply fields are strings; some examples show numbers. */
const Num = Schema.Union([Schema.Finite, Schema.FiniteFromString])

const TokenReply = Schema.Struct({
  AccessToken: Schema.NonEmptyString,
  CreateTime: Schema.optionalKey(Num),
  Expires: Num
})

const CallStateReply = Schema.Struct({
  retCode: Schema.String,
  retMsg: Schema.optionalKey(Schema.NullOr(Schema.String)),
  result: Schema.optionalKey(Schema.NullOr(Schema.Struct({
    state: Num,
    reasonCode: Schema.optionalKey(Schema.NullOr(Num))
  })))
})

/**
 * How long a token may be used: until `CreateTime + Expires` (CreateTime in epoch seconds, or ms
 * when it is that large), never longer than `Expires` from receipt (a server clock ahead of ours),
 * less the refresh margin.
 */
export const tokenUseForMs = (createTime: number | undefined, expiresS: number, now: number): number => {
  const lifetimeMs = expiresS * 1000
  const created = createTime === undefined ? undefined : createTime > 1e12 ? createTime : createTime * 1000
  const left = created === undefined ? lifetimeMs : Math.min(lifetimeMs, created + lifetimeMs - now)
  return Math.max(0, left - refreshMarginMs(lifetimeMs))
}

/**
 * CEC `reasonCode` of an ended call, classified once:
 * - 0 ended by the callee, 1 ended by the caller: normal
 * - 4 the agent did not answer, 5 the callee did not answer: callee behaviour
 * - 2 agent leg failed, 3 callee leg failed, 6 the call could not start: transient (no cause given;
 *   never held against the X)
 * - 7-127 on ITA calls: a Q.850 cause. CEC dials the real agent and customer numbers and only shows
 *   X, so a number problem there is the real party's: read as a forwarded leg (classifyForwardedQ850)
 * - anything else: other
 */
export const classifyCecReason = (reasonCode: number): OutcomeClass => {
  if (reasonCode === 0 || reasonCode === 1) return "normal"
  if (reasonCode === 4 || reasonCode === 5) return "callee"
  if (reasonCode === 2 || reasonCode === 3 || reasonCode === 6) return "transient"
  if (Number.isInteger(reasonCode) && reasonCode >= 7 && reasonCode <= 127) return classifyForwardedQ850(reasonCode)
  return "other"
}

/** A queryCallState `result` as a CallState: `state` 3 is ended; 0-2 still to be called, calling or talking. */
export const callStateOf = (state: number, reasonCode: number | null | undefined): CallState =>
  state === 3
    ? reasonCode === null || reasonCode === undefined
      ? { ended: true, outcomeClass: "other", code: "reasonCode:none" }
      : { ended: true, outcomeClass: classifyCecReason(reasonCode), code: `reasonCode:${reasonCode}` }
    : { ended: false, outcomeClass: undefined, code: `state:${state}` }

class TokenRefused extends Data.TaggedError("TokenRefused")<{ readonly token: CecToken }> {}

const unavailable = (reason: string) => new CallStateUnavailable({ reason: maskNumbersIn(reason) })

/**
 * The bearer token, cached: at most one `tokenByAkSk` in flight, the entry kept for `useForMs` (a
 * failed lookup is not kept). `fetch` is the one call that gets a token. `drop` forgets a refused
 * token only while it is still the cached one, so a burst of refusals costs one new token, not one each.
 */
export const makeTokenCache = <E>(fetch: Effect.Effect<CecToken, E>) =>
  Effect.map(
    Cache.makeWith((_: "token") => fetch, {
      capacity: 1,
      timeToLive: (exit) => (Exit.isSuccess(exit) ? Duration.millis(exit.value.useForMs) : Duration.zero)
    }),
    (cache) => ({
      get: Cache.get(cache, "token"),
      drop: (refused: CecToken) => Effect.asVoid(Cache.invalidateWhen(cache, "token", (t) => t === refused))
    })
  )

const bodyOf = <A, I>(schema: Schema.Codec<A, I>, what: string) => (response: HttpClientResponse.HttpClientResponse) =>
  Effect.flatMap(
    Effect.mapError(response.json, () => unavailable(`${what}: HTTP ${response.status}, body is not JSON`)),
    (json) => Effect.mapError(Schema.decodeUnknownEffect(schema)(json), (e) => unavailable(`${what}: HTTP ${response.status}, ${e.message.split("\n")[0]}`))
  )

/** The CEC call-state source over the HttpClient in context. */
export const makeCecCallState = (config: CecConfig): Effect.Effect<CallStateSourceShape, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = (yield* HttpClient.HttpClient).pipe(
      // no client span or trace headers to CEC, as for the binding calls
      HttpClient.transformResponse(Effect.provideService(HttpClient.TracerDisabledWhen, () => true)),
      HttpClient.transformResponse(Effect.provideService(HttpClient.TracerPropagationEnabled, false)),
      HttpClient.transformResponse(Effect.catchTag("HttpClientError", (e) => Effect.fail(unavailable(`CEC unreachable: ${e.reason._tag}`))))
    )
    const expireS = config.tokenExpireS ?? 600

    const fetchToken = Effect.gen(function*() {
      const response = yield* client.execute(
        HttpClientRequest.post(`${config.endpoint}${TOKEN_PATH}`).pipe(
          HttpClientRequest.setHeader("x-token-expire", String(expireS)),
          HttpClientRequest.bodyText(JSON.stringify({ app_key: config.ak, app_secret: Redacted.value(config.sk) }), "application/json")
        )
      )
      if (response.status !== 200) return yield* unavailable(`tokenByAkSk: HTTP ${response.status}`)
      const reply = yield* bodyOf(TokenReply, "tokenByAkSk")(response)
      const now = yield* Clock.currentTimeMillis
      return { accessToken: Redacted.make(reply.AccessToken), useForMs: tokenUseForMs(reply.CreateTime, reply.Expires, now) }
    })
    const token = yield* makeTokenCache(fetchToken)

    const ask = (serial: string) =>
      Effect.gen(function*() {
        const used = yield* token.get
        const response = yield* client.execute(
          HttpClientRequest.post(`${config.endpoint}${QUERY_CALL_STATE_PATH}`).pipe(
            HttpClientRequest.bearerToken(Redacted.value(used.accessToken)),
            HttpClientRequest.setHeader("x-app-key", config.ak),
            HttpClientRequest.bodyText(JSON.stringify({ callSerialNo: serial }), "application/json")
          )
        )
        if (response.status === 401) return yield* new TokenRefused({ token: used })
        if (response.status !== 200) return yield* unavailable(`queryCallState: HTTP ${response.status}`)
        const reply = yield* bodyOf(CallStateReply, "queryCallState")(response)
        if (reply.retCode !== "0" || reply.result == null) {
          return yield* unavailable(`queryCallState: retCode ${reply.retCode}${reply.retMsg ? ` (${reply.retMsg})` : ""}`)
        }
        return callStateOf(reply.result.state, reply.result.reasonCode)
      })

    return {
      // a refused token is dropped and asked for once more: it may have been revoked before its time
      query: (serial) =>
        ask(serial).pipe(
          Effect.catchTag("TokenRefused", (e) =>
            Effect.andThen(token.drop(e.token), ask(serial).pipe(Effect.catchTag("TokenRefused", () => Effect.fail(unavailable("queryCallState: token refused (HTTP 401)"))))))
        )
    }
  })
