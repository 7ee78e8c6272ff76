/**
 * The JSON body of `/v1/*` requests: at most 64 KiB, JSON, and every schema problem reported at once.
 * The body is read here, before HttpApi decodes it, so an oversized or broken body is a 413 / 400 in
 * the service's error format instead of a defect inside the decoder.
 *
 * The checks themselves are pure functions, shared with the decision route served on node:http
 * (decisionRoute.ts), so both paths answer alike.
 */
import { ByteSize, Effect, Layer, Result, Schema, type SchemaIssue } from "effect"
import { HttpIncomingMessage, HttpServerRequest } from "effect/http"
import { HttpApiError, HttpApiMiddleware } from "effect/http-api"
import { maskNumbersIn } from "../domain/phone.ts"
import { DecideRequest } from "../domain/request.ts"
import { decodeDefaultsFirst, schemaIssues } from "../precall.ts"
import { BadRequest, badRequest, PayloadTooLarge, UnsupportedMediaType } from "./errors.ts"

/** Issue paths and messages may quote the request (an unknown key, a bad value): numbers in them are masked. */
const unechoed = (issues: ReadonlyArray<{ readonly path: string; readonly message: string }>) =>
  issues.map((i) => ({ path: maskNumbersIn(i.path), message: maskNumbersIn(i.message) }))

export const MAX_BODY_BYTES = 64 * 1024

export class JsonBody extends HttpApiMiddleware.Service<JsonBody>()("precall/service/JsonBody", {
  error: [BadRequest, PayloadTooLarge, UnsupportedMediaType]
}) {}

export const tooLarge = new PayloadTooLarge({
  error: { code: "payload_too_large", message: `the body is larger than ${MAX_BODY_BYTES} bytes (64 KiB)`, issues: [] }
})

export const notJson = new UnsupportedMediaType({
  error: { code: "unsupported_media_type", message: "expected content-type application/json", issues: [] }
})

/** A body that could not be read (the client went away mid-body, a broken chunk). */
export const unreadable = badRequest("invalid_json", "the body could not be read", [])

export const isJsonMediaType = (contentType: string | undefined): boolean =>
  contentType === undefined || contentType === "application/json" || contentType.split(";")[0]!.trim().toLowerCase() === "application/json"

/** True when the `content-length` header alone says the body is too large. */
export const declaresTooLarge = (contentLength: string | undefined): boolean => Number(contentLength) > MAX_BODY_BYTES

/** The JSON value of a body, or the 400 for an empty or malformed one. */
export const parseJsonBody = (text: string): Result.Result<unknown, BadRequest> => {
  if (text.trim() === "") return Result.fail(badRequest("invalid_json", "the body is empty; send a JSON object", []))
  try {
    return Result.succeed(JSON.parse(text))
  } catch (e) {
    // The parser's message quotes the body; only where it went wrong is passed on.
    const at = /at position (\d+)/.exec((e as Error).message)?.[1]
    return Result.fail(badRequest("invalid_json", "the body is not valid JSON", [{ path: "", message: at === undefined ? "syntax error" : `syntax error at character ${at}` }]))
  }
}

/** True when every key of every object in `input` is in `output` at the same place: nothing was dropped. */
const keptEveryKey = (input: unknown, output: unknown): boolean => {
  if (typeof input !== "object" || input === null) return true
  if (typeof output !== "object" || output === null) return false
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(output, key)) return false
    if (!keptEveryKey((input as Record<string, unknown>)[key], (output as Record<string, unknown>)[key])) return false
  }
  return true
}

/**
 * How `/v1/*` payloads are decoded (PrecallApi's PayloadParseOptions, api.ts): every problem in one
 * answer, and unknown fields are problems too (a misspelt field must not be ignored).
 */
export const payloadParseOptions = { errors: "all", onExcessProperty: "error" } as const

/**
 * A decide request's JSON as PrecallApi decodes it (`payloadParseOptions`), for the decision route
 * on node:http. The defaults' answer stands when it kept every key of every object: they drop
 * excess keys, which PrecallApi refuses.
 */
const decodeRequestJson = decodeDefaultsFirst(Schema.decodeUnknownResult(Schema.toCodecJson(DecideRequest)), payloadParseOptions, keptEveryKey)
export const decodeDecideRequest = (json: unknown): Result.Result<DecideRequest, SchemaIssue.Issue> =>
  Result.mapError(decodeRequestJson(json), (e) => e.issue)

/** The 400 for a body that does not match the request schema: every issue, numbers masked. */
export const payloadMismatch = (issue: SchemaIssue.Issue): BadRequest =>
  badRequest("invalid_request", "the body does not match the request schema", unechoed(schemaIssues(issue)))

/** Reads the body once (HttpApi reuses the cached text) and checks size and JSON syntax. */
const readJson = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  if (!isJsonMediaType(request.headers["content-type"])) return yield* notJson
  if (declaresTooLarge(request.headers["content-length"])) return yield* tooLarge
  const text = yield* request.text.pipe(
    Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(MAX_BODY_BYTES)),
    Effect.mapError((e) => e.reason._tag === "RequestParseError" && e.reason.reason === "BodyTooLarge" ? tooLarge : unreadable)
  )
  const parsed = parseJsonBody(text)
  if (Result.isFailure(parsed)) return yield* parsed.failure
})

export const jsonBodyLayer: Layer.Layer<JsonBody> = Layer.succeed(JsonBody, (httpEffect) =>
  readJson.pipe(
    Effect.andThen(httpEffect),
    Effect.catch((e) =>
      HttpApiError.HttpApiSchemaError.is(e) && e.kind === "Payload"
        ? Effect.fail(payloadMismatch(e.cause.issue))
        : Effect.fail(e)
    )
  ))
