/**
 * Signed Aliyun POP RPC over an AliyunTransport (transport.ts: undici in production, else the HttpClient). One call is one attempt:
 * every call signs afresh with a new nonce and timestamp, so retries by the engine are never replays.
 */
import { Effect, Redacted } from "effect"
import { HttpClient } from "effect/http"
import { createSecretKey, type KeyObject, randomUUID } from "node:crypto"
import { LocalCodes, ProviderError } from "../../domain/errors.ts"
import { classifyAliyunCode } from "./codes.ts"
import { jsonObjectOf } from "../replyBody.ts"
import { aliyunTimestamp, authorizationV3, percentEncode, sha256Hex, signV1 } from "./signature.ts"
import { type AliyunHttpRequest, AliyunTransport, httpClientTransport } from "./transport.ts"

export interface AliyunCredentials {
  readonly accessKeyId: string
  readonly accessKeySecret: Redacted.Redacted<string>
}

export interface AliyunRpcConfig {
  /** e.g. `https://dyplsapi.aliyuncs.com` or the emulator's `http://127.0.0.1:8931`. */
  readonly endpoint: string
  readonly signature: "v3" | "v1"
  readonly credentials: AliyunCredentials
  /** API version, `2017-05-25` for Dyplsapi. */
  readonly version: string
}

/** A successful reply body: `Code` was `OK`. */
export type AliyunReply = Readonly<Record<string, unknown>>

/**
 * One signed call; `read` turns a successful reply body into the action's own fields or its
 * ProviderError (the body itself when none is given), in the same step as the reply is interpreted.
 */
export type AliyunRpc = <A = AliyunReply>(
  action: string,
  params: Readonly<Record<string, string | undefined>>,
  read?: (reply: AliyunReply) => A | ProviderError
) => Effect.Effect<A, ProviderError>

const EMPTY_BODY_SHA256 = sha256Hex("")

const defined = (params: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const out: Record<string, string> = {}
  // for-in over a plain object literal: no entry arrays per call, as Object.entries makes
  for (const k in params) {
    const v = params[k]
    if (v !== undefined) out[k] = v
  }
  return out
}

const query = (params: Readonly<Record<string, string>>): string =>
  Object.keys(params).sort().map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`).join("&")

/** Builds the request for one attempt: V3 puts business parameters in the query and auth in headers; v1 signs a form body. */
const signedRequest = (config: AliyunRpcConfig, signing: SigningKeys, host: string, action: string, params: Record<string, string>, now: number): AliyunHttpRequest => {
  const nonce = randomUUID()
  const timestamp = aliyunTimestamp(now)
  if (config.signature === "v1") {
    const all: Record<string, string> = {
      ...params, Action: action, Version: config.version, Format: "JSON", AccessKeyId: config.credentials.accessKeyId,
      SignatureMethod: "HMAC-SHA1", SignatureVersion: "1.0", SignatureNonce: nonce, Timestamp: timestamp
    }
    const body = `${query(all)}&Signature=${percentEncode(signV1("POST", all, signing.v1))}`
    return { origin: config.endpoint, path: "/", headers: { "content-type": "application/x-www-form-urlencoded" }, body }
  }
  const headers: Record<string, string> = {
    host,
    "x-acs-action": action,
    "x-acs-version": config.version,
    "x-acs-date": timestamp,
    "x-acs-signature-nonce": nonce,
    "x-acs-content-sha256": EMPTY_BODY_SHA256
  }
  const authorization = authorizationV3(
    { method: "POST", path: "/", query: params, headers, signedHeaders: Object.keys(headers), hashedPayload: EMPTY_BODY_SHA256 },
    config.credentials.accessKeyId,
    signing.v3
  )
  const { host: _host, ...sent } = headers // undici derives host from the URL; it is signed, not set twice
  const qs = query(params)
  return { origin: config.endpoint, path: qs === "" ? "/" : `/?${qs}`, headers: { ...sent, authorization }, body: undefined }
}

/**
 * The secret as HMAC keys made once: `createHmac` with a string or Buffer key builds a KeyObject on
 * every call (about 8 µs), with a KeyObject it does not.
 */
interface SigningKeys {
  readonly v1: KeyObject
  readonly v3: KeyObject
}

const retryAfterMs = (header: string | undefined): number | undefined => {
  if (header === undefined) return undefined
  const n = Number(header)
  return Number.isFinite(n) && n >= 0 ? n : undefined
}

/** The shape a provider Code or RequestId must have to be believed. */
const SAFE_TOKEN = /^[A-Za-z0-9._-]{1,64}$/
const isSafeToken = (value: unknown): value is string => typeof value === "string" && SAFE_TOKEN.test(value)

/** Turns an HTTP reply into the body (Code OK) or a classified ProviderError; never throws. */
export const interpretReply = (
  action: string,
  status: number,
  text: string,
  retryAfter: string | undefined
): AliyunReply | ProviderError => {
  const record = jsonObjectOf(text)
  const rawCode = record?.["Code"]
  const rawRequestId = record?.["RequestId"]
  // Codes and request ids go into decisions, logs and metric labels: only plain tokens are believed.
  if ((rawCode !== undefined && !isSafeToken(rawCode)) || (rawRequestId !== undefined && !isSafeToken(rawRequestId))) {
    return new ProviderError({
      provider: "aliyun", action, code: LocalCodes.malformed, errorClass: classifyAliyunCode(LocalCodes.malformed), httpStatus: status,
      message: `reply has a Code or RequestId that is not a plain token (${SAFE_TOKEN})`
    })
  }
  const code = typeof rawCode === "string" ? rawCode : undefined
  const requestId = typeof rawRequestId === "string" ? { requestId: rawRequestId } : {}
  if (record !== undefined && code === "OK" && status >= 200 && status < 300) return record
  if (code !== undefined) {
    const message = typeof record?.["Message"] === "string" ? (record["Message"] as string) : ""
    const after = retryAfterMs(retryAfter)
    return new ProviderError({
      provider: "aliyun", action, code, errorClass: classifyAliyunCode(code, message), message, httpStatus: status, ...requestId,
      ...(after === undefined ? {} : { retryAfterMs: after })
    })
  }
  const malformed = status >= 200 && status < 300
  const localCode = malformed ? LocalCodes.malformed : LocalCodes.httpStatus(status)
  return new ProviderError({
    provider: "aliyun", action, code: localCode, errorClass: classifyAliyunCode(localCode), httpStatus: status,
    message: `${malformed ? "reply is not an Aliyun JSON envelope" : `HTTP ${status} without an Aliyun error body`}: ${JSON.stringify(text.slice(0, 120))}`
  })
}

/**
 * A signed RPC caller for one product and version: over the `AliyunTransport` when one is set
 * (precall's composition sets undici's, see transport.ts), else over the HttpClient in context.
 */
export const makeAliyunRpc = (config: AliyunRpcConfig): Effect.Effect<AliyunRpc, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const transport = (yield* AliyunTransport) ?? httpClientTransport(yield* HttpClient.HttpClient)
    const host = new URL(config.endpoint).host
    const secret = Redacted.value(config.credentials.accessKeySecret)
    const signing: SigningKeys = { v1: createSecretKey(Buffer.from(`${secret}&`)), v3: createSecretKey(Buffer.from(secret)) }
    const rpc: AliyunRpc = <A>(action: string, params: Readonly<Record<string, string | undefined>>, read?: (reply: AliyunReply) => A | ProviderError) =>
      Effect.clockWith((clock) =>
        Effect.matchEffect(transport.send(signedRequest(config, signing, host, action, defined(params), clock.currentTimeMillisUnsafe())), {
          onFailure: (e) =>
            Effect.fail(new ProviderError({ provider: "aliyun", action, code: LocalCodes.connection, errorClass: "transient", message: e.description })),
          onSuccess: (r) => {
            const reply = interpretReply(action, r.status, r.text, r.retryAfter)
            const fields = reply instanceof ProviderError || read === undefined ? reply : read(reply)
            return fields instanceof ProviderError ? Effect.fail(fields) : Effect.succeed(fields as A)
          }
        }))
    return rpc
  })
