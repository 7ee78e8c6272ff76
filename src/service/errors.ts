/**
 * Every error the service answers with has one JSON shape:
 * `{ "error": { "code", "message", "issues": [ { "path", "message" } ] } }`.
 * The classes carry their HTTP status so HttpApi encodes them and the OpenAPI document lists them.
 */
import { Schema } from "effect"
import { HttpServerResponse } from "effect/http"

export const Issue = Schema.Struct({
  /** Dotted path of the offending field, e.g. `binding.phoneNoA`; empty for the body as a whole. */
  path: Schema.String,
  message: Schema.String
})
export type Issue = typeof Issue.Type

const body = <C extends Schema.Top>(code: C) => ({
  error: Schema.Struct({ code, message: Schema.String, issues: Schema.Array(Issue) })
})

export class BadRequest extends Schema.Error<BadRequest>("BadRequest")(
  body(Schema.Literals(["invalid_json", "invalid_request"])),
  { httpApiStatus: 400, description: "The body is not JSON or does not match the schema; `issues` lists every problem" }
) {}

export class Unauthorized extends Schema.Error<Unauthorized>("Unauthorized")(
  body(Schema.Literal("unauthorized")),
  { httpApiStatus: 401, description: "Missing or unknown API key (Authorization: Bearer <key>)" }
) {}

export class PayloadTooLarge extends Schema.Error<PayloadTooLarge>("PayloadTooLarge")(
  body(Schema.Literal("payload_too_large")),
  { httpApiStatus: 413, description: "The body is larger than 64 KiB" }
) {}

export class UnsupportedMediaType extends Schema.Error<UnsupportedMediaType>("UnsupportedMediaType")(
  body(Schema.Literal("unsupported_media_type")),
  { httpApiStatus: 415, description: "The body is not application/json" }
) {}

export const badRequest = (code: "invalid_json" | "invalid_request", message: string, issues: ReadonlyArray<Issue>) =>
  new BadRequest({ error: { code, message, issues } })

export const unauthorized = (message: string) => new Unauthorized({ error: { code: "unauthorized", message, issues: [] } })

/** The JSON of an error answer (the classes above encode to the same shape). */
export const errorBody = (code: string, message: string, issues: ReadonlyArray<Issue> = []) => ({ error: { code, message, issues } })

/** An error response built outside HttpApi (unknown routes, wrong methods, last-resort failures). */
export const errorResponse = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe(errorBody(code, message), { status, headers })

export class AuditUnavailable extends Schema.Error<AuditUnavailable>("AuditUnavailable")(
  body(Schema.Literals(["audit_unavailable", "audit_corrupt"])),
  { httpApiStatus: 503, description: "The exposure store cannot answer (down, or a damaged record: the answer would be incomplete)" }
) {}
