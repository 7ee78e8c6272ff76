/**
 * The PostgreSQL exposure store on the machine's real PostgreSQL (PRECALL_TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test), every test in a schema of its own, dropped after.
 */
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Metric, Redacted, Schedule } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql/SqlClient"
import { auditedEngineLayer, auditFailuresTotal } from "../../src/audit/audited.ts"
import { ExposureStore } from "../../src/audit/ExposureStore.ts"
import { EXPOSURES_TABLE, pgStoreLayer, writerGrants } from "../../src/audit/pgStore.ts"
import { makeNumberHasher } from "../../src/audit/record.ts"
import { Engine } from "../../src/engine/Engine.ts"
import { asAdmin, entry, auditSettings, cuttableProxy, fallbackReal, HASH_SECRET, ownSchema, PG_URL, REAL, request, scriptedEngine, uniqueName, urlIn } from "./support.ts"

const hasher = makeNumberHasher(HASH_SECRET)

/** The store for the rest of the test's scope. */
const storeIn = (url: string) =>
  Effect.map(Layer.build(pgStoreLayer({ url: Redacted.make(url), connectTimeoutMs: 2000 })), (ctx) => Context.get(ctx, ExposureStore))

/** A plain SQL session in `schema` as `user`, to try statements by hand. */
const sqlAs = (schema: string, user = "postgres") => {
  const u = new URL(urlIn(schema))
  u.username = user
  return PgClient.layer({ url: Redacted.make(u.toString()) }).pipe(Layer.provide(Reactivity.layer))
}

/** The SQLSTATE a statement fails with, or "ok". */
const outcome = (statement: string) =>
  Effect.flatMap(Effect.service(SqlClient), (sql) => sql.unsafe(statement)).pipe(
    Effect.as("ok"),
    Effect.catchTag("SqlError", (e) => Effect.succeed(String((e.reason.cause as { code?: unknown } | undefined)?.code ?? e.reason._tag)))
  )

describe("the PostgreSQL exposure store", () => {
  it.live("migrates at start (once), writes records and reads them back by number, binding, time and page", () =>
    Effect.gen(function*() {
      const schema = yield* ownSchema()
      const store = yield* storeIn(urlIn(schema))
      assert.strictEqual(store.kind, "postgres")
      assert.notInclude(store.where, "@")
      const numbers = ["13900139000", "13900139001", "13900139000"]
      for (const [i, n] of numbers.entries()) yield* store.append(entry(i + 1, n))
      // a second start finds the migrations applied and the records kept
      const again = yield* storeIn(urlIn(schema))
      const all = yield* again.query({ limit: 10 })
      assert.deepStrictEqual(all.records.map((r) => r.requestId), ["req-1", "req-2", "req-3"])
      const { id: _id, ...first } = all.records[0]!
      assert.deepStrictEqual(first, entry(1, "13900139000"))
      const byNumber = yield* again.query({ numberHash: hasher.hash("+8613900139000"), limit: 1 })
      assert.deepStrictEqual(byNumber.records.map((r) => r.requestId), ["req-1"])
      assert.isNotNull(byNumber.next)
      const rest = yield* again.query({ numberHash: hasher.hash(REAL), limit: 1, after: byNumber.next! })
      assert.deepStrictEqual([rest.records.map((r) => r.requestId), rest.next], [["req-3"], null])
      assert.deepStrictEqual((yield* again.query({ subsId: "S2", poolKey: "FC100000000001", limit: 10 })).records.map((r) => r.requestId), ["req-2"])
      const from = Date.parse("2026-12-01T00:02:00.000Z")
      assert.deepStrictEqual((yield* again.query({ from, to: from + 60_000, limit: 10 })).records.map((r) => r.requestId), ["req-2"])
      const rows = yield* Effect.flatMap(Effect.service(SqlClient), (sql) => sql.unsafe(`SELECT to_jsonb(t)::text AS row FROM ${EXPOSURES_TABLE} t`)).pipe(Effect.provide(sqlAs(schema)))
      assert.notInclude(JSON.stringify(rows), REAL)
    }))

  it.live("append-only: the writer role of docs/audit.md may INSERT and SELECT, never UPDATE, DELETE or TRUNCATE; the owner is stopped by the trigger", () =>
    Effect.gen(function*() {
      const writer = uniqueName("precall_audit_writer")
      const schema = yield* ownSchema([writer])
      yield* storeIn(urlIn(schema)) // the owner's first start applies the migrations
      yield* asAdmin([`CREATE ROLE ${writer} LOGIN`, ...writerGrants(writer, schema)])
      // precall started as the writer: the migrations are found applied, records go in and come out
      const asWriterUrl = new URL(urlIn(schema))
      asWriterUrl.username = writer
      const store = yield* storeIn(asWriterUrl.toString())
      yield* store.append(entry(1, REAL))
      assert.strictEqual((yield* store.query({ limit: 10 })).records.length, 1)
      const tried = yield* Effect.all([
        outcome(`UPDATE ${EXPOSURES_TABLE} SET pool_key = 'X'`),
        outcome(`DELETE FROM ${EXPOSURES_TABLE}`),
        outcome(`TRUNCATE ${EXPOSURES_TABLE}`),
        outcome(`DROP TABLE ${EXPOSURES_TABLE}`)
      ]).pipe(Effect.provide(sqlAs(schema, writer)))
      assert.deepStrictEqual(tried, ["42501", "42501", "42501", "42501"]) // insufficient_privilege / must be owner
      const byOwner = yield* Effect.all([
        outcome(`UPDATE ${EXPOSURES_TABLE} SET pool_key = 'X'`),
        outcome(`DELETE FROM ${EXPOSURES_TABLE}`),
        outcome(`TRUNCATE ${EXPOSURES_TABLE}`),
        outcome(`INSERT INTO ${EXPOSURES_TABLE} (at, provider, pool_key, subs_id, phone_no_x, real_number_masked, real_number_hash, policy, evidence)
          VALUES (now(), 'p', 'k', 's', 'x', '${REAL}', '${"0".repeat(64)}', '{}', '{}')`)
      ]).pipe(Effect.provide(sqlAs(schema)))
      assert.deepStrictEqual(byOwner, ["P0001", "P0001", "P0001", "23514"]) // the trigger; the CHECK keeps a full number out
      assert.strictEqual((yield* store.query({ limit: 10 })).records.length, 1)
    }))

  it.live("a writer role cannot apply pending migrations: a typed Migration error at start, not a crash", () =>
    Effect.gen(function*() {
      const writer = uniqueName("precall_audit_writer")
      const schema = yield* ownSchema([writer])
      yield* asAdmin([`CREATE ROLE ${writer} LOGIN`, `GRANT USAGE ON SCHEMA ${schema} TO ${writer}`])
      const u = new URL(urlIn(schema))
      u.username = writer
      const error = yield* Effect.flip(storeIn(u.toString()))
      assert.deepStrictEqual([error._tag, error.reason, error.store], ["AuditStoreError", "Migration", "postgres"])
    }))

  it.live("PostgreSQL unreachable at start: a typed Unavailable error", () =>
    Effect.gen(function*() {
      const proxy = yield* Effect.acquireRelease(Effect.promise(() => cuttableProxy()), (p) => Effect.promise(() => p.close()))
      proxy.cut()
      const u = new URL(PG_URL)
      u.port = String(proxy.port)
      const error = yield* Effect.flip(storeIn(u.toString()))
      assert.deepStrictEqual([error.reason, error.store], ["Unavailable", "postgres"])
      assert.notInclude(error.message, "postgres@")
    }))

  it.live("an outage turns fallback-real into refuse, counted; once PostgreSQL is back every fallback-real given has its record", () =>
    Effect.gen(function*() {
      const schema = yield* ownSchema()
      const proxy = yield* Effect.acquireRelease(Effect.promise(() => cuttableProxy()), (p) => Effect.promise(() => p.close()))
      const u = new URL(urlIn(schema))
      u.port = String(proxy.port)
      const settings = yield* auditSettings({ auditTimeoutMs: 1000 })
      const stores = pgStoreLayer({ url: Redacted.make(u.toString()), connectTimeoutMs: 500 })
      const ctx = yield* Layer.build(auditedEngineLayer(settings).pipe(Layer.provide(scriptedEngine(() => fallbackReal())), Layer.provideMerge(stores)))
      const engine = Context.get(ctx, Engine)
      const store = Context.get(ctx, ExposureStore)
      const failed = () => Effect.map(Metric.value(Metric.withAttributes(auditFailuresTotal, { store: "postgres", reason: "Unavailable" })), (m) => m.count)
      const before = yield* failed()
      const answers: Array<string> = []
      const decideOnce = Effect.map(engine.decide(request), (d) => answers.push(d.decision))

      yield* decideOnce
      proxy.cut()
      yield* decideOnce
      yield* decideOnce
      proxy.restore()
      // the pool reconnects on its own: once PostgreSQL answers again, decisions are fallback-real again
      yield* store.query({ limit: 1 }).pipe(Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 }))
      yield* decideOnce
      yield* decideOnce
      assert.deepStrictEqual(answers, ["fallback-real", "refuse", "refuse", "fallback-real", "fallback-real"])
      const failures = (yield* failed()) - before
      const timeouts = yield* Effect.map(Metric.value(Metric.withAttributes(auditFailuresTotal, { store: "postgres", reason: "Timeout" })), (m) => m.count)
      assert.isAtLeast(failures + timeouts, 2)
      const records = (yield* store.query({ limit: 100 })).records
      assert.strictEqual(records.length, answers.filter((a) => a === "fallback-real").length)
      assert.isTrue(records.every((r) => r.realNumberHash === hasher.hash(REAL) && r.realNumberMasked === "****9000"))
    }))
})
