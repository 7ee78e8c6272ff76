/**
 * `precall audit`: the exposure audit from the command line, the same search and the same answer as
 * GET /v1/exposures (one JSON object: `records` and `next`). It reads the store the settings name
 * (PRECALL_AUDIT_DATABASE_URL, else PRECALL_AUDIT_FILE) and hashes `--number` with
 * PRECALL_AUDIT_HASH_SECRET; the number itself is printed nowhere.
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { ExposureStore } from "../audit/ExposureStore.ts"
import { exposureStoreLayer } from "../audit/layer.ts"
import { exposureQuery } from "../audit/query.ts"
import { makeNumberHasher } from "../audit/record.ts"
import { settingsFromEnv } from "../policy/settings.ts"
import { usageError } from "./decide.ts"
import { exitCodes, failWith } from "./exit.ts"

/** Search parameter → the flag a user typed. */
const flagOf: Readonly<Record<string, string>> = {
  from: "--from", to: "--to", number: "--number", poolKey: "--pool-key", subsId: "--subs-id", limit: "--limit", after: "--after"
}

const optional = (name: string, description: string) => Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)

export const auditCommand = Command.make("audit", {
  from: optional("from", "from this time on, inclusive: ISO 8601, e.g. 2026-12-01 or 2026-12-01T08:00:00Z (default: the beginning)"),
  to: optional("to", "up to this time, exclusive (default: now)"),
  number: optional("number", "the real number exposed, national digits or +86; matched through its keyed hash (needs PRECALL_AUDIT_HASH_SECRET) (default: any)"),
  poolKey: optional("pool-key", "the binding's pool key (default: any)"),
  subsId: optional("subs-id", "the binding's SubsId (default: any)"),
  limit: optional("limit", "records per page, 1-1000 (default 100)"),
  after: optional("after", "the `next` of the previous page (default: the first page)")
}, (flags) =>
  Effect.gen(function*() {
    const settings = yield* settingsFromEnv(process.env)
    const hasher = settings.auditHashSecret === undefined ? undefined : makeNumberHasher(settings.auditHashSecret)
    const params = Object.fromEntries(Object.entries(flags).flatMap(([k, v]) => (Option.isSome(v) ? [[k, v.value]] : [])))
    const decoded = exposureQuery(params, hasher)
    if ("issues" in decoded) return yield* usageError(decoded.issues.map((i) => `${flagOf[i.path] ?? i.path}: ${i.message}`).join("; "))
    const page = yield* Effect.flatMap(Effect.service(ExposureStore), (store) => store.query(decoded.query)).pipe(Effect.provide(exposureStoreLayer(settings)))
    yield* Console.log(JSON.stringify({ records: page.records, next: page.next === null ? null : String(page.next) }))
  }).pipe(
    Effect.catchTags({
      InvalidSettings: (e) => usageError(e.message),
      AuditStoreError: (e) =>
        failWith(exitCodes.unexpected, `exposure audit ${e.reason === "Corrupt" ? "damaged" : "unavailable"} (${e.store} ${e.reason}): ${e.message}`)
    })
  )).pipe(Command.withDescription(
  "Search the exposure audit (every fallback-real decision; docs/audit.md) and print one page as one JSON object {records, next}, as GET /v1/exposures does. " +
    "Exit 0 with a page, 2 on bad flags or settings, 1 when the store cannot answer"
))
