/**
 * Where exposure records go: PostgreSQL (PRECALL_AUDIT_DATABASE_URL) or an append-only JSON-lines
 * file (PRECALL_AUDIT_FILE). Both only append and read: no record is ever changed or removed by
 * precall, and the PostgreSQL writer role is granted no UPDATE or DELETE (docs/audit.md).
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type { ExposureEntry, ExposureRecord } from "./record.ts"

/**
 * A store failure, one tagged error with a reason:
 * - Unavailable: the store could not be reached or refused the write (PostgreSQL down, disk full)
 * - Timeout: no answer within PRECALL_AUDIT_TIMEOUT_MS
 * - Corrupt: a line of the audit file is not a record (`line` says which); the answer would be incomplete
 * - Migration: the schema could not be brought up to date at start
 */
export class AuditStoreError extends Schema.TaggedError<AuditStoreError>()("AuditStoreError", {
  reason: Schema.Literals(["Unavailable", "Timeout", "Corrupt", "Migration"]),
  store: Schema.Literals(["postgres", "file", "memory"]),
  message: Schema.String,
  line: Schema.optionalKey(Schema.Int)
}) {}

/** A page of the search: records in `id` order, from after `after`, at most `limit`. Ranges: `from` inclusive, `to` exclusive. */
export interface ExposureQuery {
  /** Epoch milliseconds. */
  readonly from?: number | undefined
  readonly to?: number | undefined
  /** The keyed hash of the number searched for (never the number). */
  readonly numberHash?: string | undefined
  readonly poolKey?: string | undefined
  readonly subsId?: string | undefined
  /** The `next` of the previous page. */
  readonly after?: number | undefined
  readonly limit: number
}

export interface ExposurePage {
  readonly records: ReadonlyArray<ExposureRecord>
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly next: number | null
}

export interface ExposureStoreShape {
  readonly kind: AuditStoreError["store"]
  /** Where, for logs and `precall audit`: the file's path, or PostgreSQL's host and database (never a password). */
  readonly where: string
  /** Durable once it succeeds: committed in PostgreSQL, fsync'd in the file. */
  readonly append: (entry: ExposureEntry) => Effect.Effect<void, AuditStoreError>
  readonly query: (query: ExposureQuery) => Effect.Effect<ExposurePage, AuditStoreError>
}

/**
 * The exposure store the audit writes to and the exposures endpoint reads from.
 *
 * @since 0.2.0
 */
export class ExposureStore extends Context.Service<ExposureStore, ExposureStoreShape>()("precall/ExposureStore") {}

/** Does `r` match the query's filters (not the page bounds)? */
export const matches = (q: ExposureQuery, r: ExposureRecord): boolean => {
  const at = Date.parse(r.at)
  return (q.from === undefined || at >= q.from) && (q.to === undefined || at < q.to) &&
    (q.numberHash === undefined || r.realNumberHash === q.numberHash) &&
    (q.poolKey === undefined || r.poolKey === q.poolKey) && (q.subsId === undefined || r.subsId === q.subsId)
}

/** The most records one page holds. */
export const MAX_PAGE = 1000
