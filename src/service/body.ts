/**
 * The JSON body of `/v1/*` requests: at most 64 KiB, JSON, and every schema problem reported at once.
 * The body is read here, before HttpApi decodes it, so an oversized or broken body is a 413 / 400 in
 * the service's error format instead of a defect inside the decoder.
 */
import { ByteSize, Effect, Layer } from "effect"
import { HttpIncomingMessage, HttpServerRequest } from "effect/http"
import { HttpApiError, HttpApiMiddleware } from "effect/http-api"
import { maskNumbersIn } from "../domain/phone.ts"
import { schemaIssues } from "../precall.ts"
import { BadRequest, badRequest, PayloadTooLarge, UnsupportedMediaType } from "./errors.ts"

/** Issue paths and messages may quote the request (an unknown key, a bad value): numbers in them are masked. */
const unechoed = (issues: ReadonlyArray<{ readonly path: string; readonly message: string }>) =>
  issues.map((i) => ({ path: maskNumbersIn(i.path), message: maskNumbersIn(i.message) }))

const MAX_BODY_BYTES = 64 * 1024

export class JsonBody extends HttpApiMiddleware.Service<JsonBody>()("precall/service/JsonBody", {
  error: [BadRequest, PayloadTooLarge, UnsupportedMediaType]
}) {}

const tooLarge = new PayloadTooLarge({
  error: { code: "payload_too_large", message: `the body is larger than ${MAX_BODY_BYTES} bytes (64 KiB)`, issues: [] }
})

const isJsonMediaType = (contentType: string | undefined): boolean =>
  contentType === undefined || contentType.split(";")[0]!.trim().toLowerCase() === "application/json"

/** Reads the body once (HttpApi reuses the cached text) and checks size and JSON syntax. */
const readJson = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const contentType = request.headers["content-type"]
  if (!isJsonMediaType(contentType)) {
    return yield* new UnsupportedMediaType({
      error: { code: "unsupported_media_type", message: "expected content-type application/json", issues: [] }
    })
  }
  const declared = Number(request.headers["content-length"])
  if (declared > MAX_BODY_BYTES) return yield* tooLarge
  const text = yield* request.text.pipe(
    Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(MAX_BODY_BYTES)),
    Effect.mapError((e) =>
      e.reason._tag === "RequestParseError" && e.reason.reason === "BodyTooLarge"
        ? tooLarge
        : badRequest("invalid_json", "the body could not be read", [])
    )
  )
  if (text.trim() === "") return yield* badRequest("invalid_json", "the body is empty; send a JSON object", [])
  try {
    JSON.parse(text)
  } catch (e) {
    // The parser's message quotes the body; only where it went wrong is passed on.
    const at = /at position (\d+)/.exec((e as Error).message)?.[1]
    return yield* badRequest("invalid_json", "the body is not valid JSON", [{ path: "", message: at === undefined ? "syntax error" : `syntax error at character ${at}` }])
  }
})

export const jsonBodyLayer: Layer.Layer<JsonBody> = Layer.succeed(JsonBody, (httpEffect) =>
  readJson.pipe(
    Effect.andThen(httpEffect),
    Effect.catch((e) =>
      HttpApiError.HttpApiSchemaError.is(e) && e.kind === "Payload"
        ? Effect.fail(badRequest("invalid_request", "the body does not match the request schema", unechoed(schemaIssues(e.cause.issue))))
        : Effect.fail(e)
    )
  ))
