/**
 * `GET /v1/exposures`: the exposure audit, paged, for privacy officers (docs/audit.md). Admin keys
 * only (PRECALL_ADMIN_KEYS). `number` is matched through the keyed hash: the number itself is hashed
 * here and goes no further; neither it nor any other parameter is repeated in an answer or a log.
 */
import { Effect, Schema } from "effect"
import { HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { type ExposureQuery, ExposureStore, MAX_PAGE } from "../audit/ExposureStore.ts"
import { ExposureRecord, type NumberHasher, searchableNumber } from "../audit/record.ts"
import { PoolKey, SubsId } from "../domain/binding.ts"
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
type ExposureParams = typeof ExposureParams.Type

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

const DEFAULT_PAGE = 100
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/
const isPoolKey = Schema.is(PoolKey)
const isSubsId = Schema.is(SubsId)

/** The query as the store takes it, or every problem with it; no message repeats a value. */
export const exposureQuery = (given: ExposureParams, hasher: NumberHasher | undefined): { query: ExposureQuery } | { issues: ReadonlyArray<Issue> } => {
  const issues: Array<Issue> = []
  const params: Partial<Record<keyof ExposureParams, string>> = {}
  for (const [name, value] of Object.entries(given) as Array<[keyof ExposureParams, string | ReadonlyArray<string>]>) {
    if (typeof value === "string") params[name] = value
    else issues.push({ path: name, message: "given more than once" })
  }
  const time = (name: "from" | "to") => {
    const raw = params[name]
    if (raw === undefined) return undefined
    const ms = DATE.test(raw) ? Date.parse(raw) : Number.NaN
    if (Number.isNaN(ms)) issues.push({ path: name, message: "expected an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T08:00:00Z" })
    return Number.isNaN(ms) ? undefined : ms
  }
  const whole = (name: "limit" | "after", min: number, max: number) => {
    const raw = params[name]
    if (raw === undefined) return undefined
    const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN
    if (!(n >= min && n <= max)) issues.push({ path: name, message: `expected a whole number ${min}-${max}` })
    return n >= min && n <= max ? n : undefined
  }
  const from = time("from")
  const to = time("to")
  if (from !== undefined && to !== undefined && to <= from) issues.push({ path: "to", message: "must be later than from" })
  let numberHash: string | undefined = undefined
  if (params.number !== undefined) {
    const n = searchableNumber(params.number)
    if (n === undefined) issues.push({ path: "number", message: "expected a mainland China phone number (national digits or +86)" })
    else if (hasher === undefined) issues.push({ path: "number", message: "searching by number needs PRECALL_AUDIT_HASH_SECRET, the key the records were hashed with" })
    else numberHash = hasher.hash(n)
  }
  if (params.poolKey !== undefined && !isPoolKey(params.poolKey)) issues.push({ path: "poolKey", message: "expected a pool key of 1-64 letters, digits, _ or -" })
  if (params.subsId !== undefined && !isSubsId(params.subsId)) issues.push({ path: "subsId", message: "expected a SubsId of 1-64 letters, digits, _ or -" })
  const limit = whole("limit", 1, MAX_PAGE)
  const after = whole("after", 0, Number.MAX_SAFE_INTEGER)
  if (issues.length > 0) return { issues }
  return { query: { from, to, numberHash, poolKey: params.poolKey, subsId: params.subsId, after, limit: limit ?? DEFAULT_PAGE } }
}

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
