/**
 * An exposure search as people write it (the endpoint's query, the CLI's flags): plain strings, checked
 * here into an ExposureQuery. The number is hashed at once; no problem message repeats a value.
 */
import { Schema } from "effect"
import { PoolKey, SubsId } from "../domain/binding.ts"
import { type ExposureQuery, MAX_PAGE } from "./ExposureStore.ts"
import { type NumberHasher, searchableNumber } from "./record.ts"

/** The parameters of a search; each a string (a list when given twice, which is a problem). */
export interface ExposureParams {
  readonly from?: string | ReadonlyArray<string>
  readonly to?: string | ReadonlyArray<string>
  readonly number?: string | ReadonlyArray<string>
  readonly poolKey?: string | ReadonlyArray<string>
  readonly subsId?: string | ReadonlyArray<string>
  readonly limit?: string | ReadonlyArray<string>
  readonly after?: string | ReadonlyArray<string>
}

export interface QueryIssue {
  /** The parameter: from, to, number, poolKey, subsId, limit, after. */
  readonly path: string
  readonly message: string
}

const DEFAULT_PAGE = 100
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/
const isPoolKey = Schema.is(PoolKey)
const isSubsId = Schema.is(SubsId)

/** The query as the store takes it (default page: 100 records), or every problem with it; no message repeats a value. */
export const exposureQuery = (given: ExposureParams, hasher: NumberHasher | undefined): { query: ExposureQuery } | { issues: ReadonlyArray<QueryIssue> } => {
  const issues: Array<QueryIssue> = []
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

