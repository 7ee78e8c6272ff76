/**
 * `GET /v1/exposures`: the exposure audit, paged, for privacy officers (docs/audit.md). Admin keys
 * only (PRECALL_ADMIN_KEYS). `number` is matched through the keyed hash: the number itself is hashed
 * here and goes no further; neither it nor any other parameter is repeated in an answer or a log.
 */
import { Effect, Schema } from "effect"
import { HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { ExposureStore } from "../audit/ExposureStore.ts"
import { exposureQuery } from "../audit/query.ts"
import { ExposureRecord, type NumberHasher } from "../audit/record.ts"
import type { PrecallApi } from "./api.ts"
import { AdminAuthorization } from "./auth.ts"
import { AuditUnavailable, BadRequest, badRequest, type Issue } from "./errors.ts"

/** A parameter; given twice it arrives as a list, which the handler refuses with a 400 (HttpApi would answer 500). */
const Param = Schema.optionalKey(Schema.Union([Schema.String, Schema.Array(Schema.String)]))

export const ExposureParams = Schema.Struct({
  /** From this time on (ISO 8601, e.g. 2026-12-01 or 2026-12-01T08:00:00Z), inclusive. */
  from: Param,
  /** Up to this time, exclusive. */
  to: Param,
  /** A real number in any spelling the decide API accepts; matched through its keyed hash. */
  number: Param,
  poolKey: Param,
  subsId: Param,
  /** Records per page, 1-1000 (default 100). */
  limit: Param,
  /** The `next` of the previous page. */
  after: Param
})

export const ExposurePageBody = Schema.Struct({
  records: Schema.Array(ExposureRecord),
  /** Pass as `after` for the next page; null on the last page. */
  next: Schema.NullOr(Schema.String)
})

export const exposuresGroup = HttpApiGroup.make("exposures").add(
  HttpApiEndpoint.get("exposures", "/v1/exposures", { query: ExposureParams, success: ExposurePageBody, error: [BadRequest, AuditUnavailable] })
    .annotate(OpenApi.Summary, "The exposure audit: every fallback-real decision, searchable by time, number (through its keyed hash) and binding; admin keys only")
    .middleware(AdminAuthorization)
)

const known = new Set(Object.keys(ExposureParams.fields))

/** Parameters the endpoint does not know: a misspelt filter must not widen the search silently. */
const unknownParams = (url: string): ReadonlyArray<Issue> => {
  const names = [...new URLSearchParams(url.split("?")[1]?.split("#")[0] ?? "").keys()]
  return [...new Set(names)].filter((n) => !known.has(n)).map(() => ({ path: "", message: `unknown parameter; known: ${[...known].join(", ")}` }))
}

/** The handler; takes the API (a type-only import of api.ts, which adds this group) and the number hasher (none without the secret). */
export const exposureRoutes = (api: typeof PrecallApi, hasher: NumberHasher | undefined) =>
  HttpApiBuilder.group(api, "exposures", (handlers) =>
    Effect.gen(function*() {
      const store = yield* ExposureStore
      return handlers.handle("exposures", ({ query, request }) =>
        Effect.gen(function*() {
          const unknown = unknownParams(request.url)
          const decoded = exposureQuery(query, hasher)
          if (unknown.length > 0 || "issues" in decoded) {
            return yield* badRequest("invalid_request", "the query cannot be used", [...unknown, ...("issues" in decoded ? decoded.issues : [])])
          }
          const page = yield* store.query(decoded.query).pipe(
            Effect.mapError((e) =>
              new AuditUnavailable({
                error: {
                  code: e.reason === "Corrupt" ? "audit_corrupt" : "audit_unavailable",
                  message: e.reason === "Corrupt"
                    ? `the ${e.store} store holds a damaged record${e.line === undefined ? "" : ` (line ${e.line})`}: the answer would be incomplete; see docs/audit.md`
                    : `the ${e.store} store cannot answer (${e.reason})`,
                  issues: []
                }
              })
            )
          )
          return { records: page.records, next: page.next === null ? null : String(page.next) }
        }))
    }))
