/**
 * Exposures in PostgreSQL (PRECALL_AUDIT_DATABASE_URL), through effect's SQL client (@effect/sql-pg).
 * The schema is made by numbered migrations (effect/sql Migrator, table `precall_audit_migrations`)
 * at start; the table only ever takes INSERTs from precall, and `writerGrants` is what the role
 * precall writes as is given: SELECT and INSERT, no UPDATE, DELETE or TRUNCATE. A trigger refuses
 * UPDATE, DELETE and TRUNCATE for every role besides, the owner included, and a CHECK keeps anything
 * but a masked number out of `real_number_masked`.
 *
 * Applying migrations needs the owner's rights (the Migrator locks its table); a writer role starts
 * fine once they are applied and fails with reason Migration otherwise (docs/audit.md: first start).
 */
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Redacted, Schema } from "effect"
import * as Migrator from "effect/sql/Migrator"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { AuditStoreError, type ExposurePage, ExposureStore } from "./ExposureStore.ts"
import { ExposureEntry, ExposureRecord } from "./record.ts"

export const EXPOSURES_TABLE = "precall_exposures"
export const MIGRATIONS_TABLE = "precall_audit_migrations"

/** The schema, one statement per entry (docs/audit.md quotes it). */
export const schemaStatements: ReadonlyArray<string> = [
  `CREATE TABLE ${EXPOSURES_TABLE} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  request_id text,
  api_key_id text,
  provider text NOT NULL,
  pool_key text NOT NULL,
  subs_id text NOT NULL,
  phone_no_x text NOT NULL,
  real_number_masked text NOT NULL CHECK (real_number_masked ~ '^[*]{4}[0-9]{0,4}$'),
  real_number_hash text NOT NULL CHECK (real_number_hash ~ '^[0-9a-f]{64}$'),
  policy jsonb NOT NULL,
  evidence jsonb NOT NULL
)`,
  `CREATE INDEX ${EXPOSURES_TABLE}_hash ON ${EXPOSURES_TABLE} (real_number_hash, id)`,
  `CREATE INDEX ${EXPOSURES_TABLE}_at ON ${EXPOSURES_TABLE} (at, id)`,
  `CREATE INDEX ${EXPOSURES_TABLE}_binding ON ${EXPOSURES_TABLE} (pool_key, subs_id, id)`,
  `CREATE FUNCTION ${EXPOSURES_TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '${EXPOSURES_TABLE} is append-only: % refused', TG_OP;
END
$$`,
  `CREATE TRIGGER ${EXPOSURES_TABLE}_no_change BEFORE UPDATE OR DELETE ON ${EXPOSURES_TABLE} FOR EACH ROW EXECUTE FUNCTION ${EXPOSURES_TABLE}_append_only()`,
  `CREATE TRIGGER ${EXPOSURES_TABLE}_no_truncate BEFORE TRUNCATE ON ${EXPOSURES_TABLE} FOR EACH STATEMENT EXECUTE FUNCTION ${EXPOSURES_TABLE}_append_only()`,
  `REVOKE ALL ON ${EXPOSURES_TABLE} FROM PUBLIC`
]

/**
 * The grants of the role precall writes as (`schema` as created by the owner): it reads and appends,
 * nothing else. Run by the owner after the first start; docs/audit.md quotes them.
 */
export const writerGrants = (role: string, schema = "public"): ReadonlyArray<string> => [
  `GRANT USAGE ON SCHEMA ${schema} TO ${role}`,
  `GRANT SELECT, INSERT ON ${schema}.${EXPOSURES_TABLE} TO ${role}`,
  `GRANT SELECT ON ${schema}.${MIGRATIONS_TABLE} TO ${role}`
]

/** An officer's read-only role. */
export const readerGrants = (role: string, schema = "public"): ReadonlyArray<string> => [
  `GRANT USAGE ON SCHEMA ${schema} TO ${role}`,
  `GRANT SELECT ON ${schema}.${EXPOSURES_TABLE} TO ${role}`
]

const migrations = {
  "1_exposures": Effect.gen(function*() {
    const sql = yield* SqlClient
    for (const statement of schemaStatements) yield* sql.unsafe(statement)
  })
}
const LATEST_MIGRATION = 1

/** Host, port and database of a postgres URL: never its user's password. */
export const describeUrl = (url: string): string => {
  const u = new URL(url)
  return `postgres://${u.hostname}${u.port === "" ? "" : `:${u.port}`}${u.pathname}`
}

const failure = (reason: AuditStoreError["reason"], message: string) => new AuditStoreError({ reason, store: "postgres", message })

/** A SqlError as one line: its reason's tag and, from the server, its code; never the statement's parameters. */
const sqlProblem = (e: SqlError): string => {
  const cause = e.reason.cause
  const code = typeof cause === "object" && cause !== null && "code" in cause ? ` ${String((cause as { code: unknown }).code)}` : ""
  return `${e.reason._tag}${code}: ${e.message.replace(/\s+/g, " ").slice(0, 200)}`
}

const unavailable = (what: string) => (e: SqlError) => failure("Unavailable", `${what}: ${sqlProblem(e)}`)

/** Migrations at start: applied when some are pending (owner rights), skipped when all are. */
const migrate = Effect.gen(function*() {
  const sql = yield* SqlClient
  const exists = yield* sql<{ found: number }>`SELECT 1 AS found WHERE to_regclass(${MIGRATIONS_TABLE}) IS NOT NULL`
  if (exists.length > 0) {
    const [row] = yield* sql<{ latest: number | null }>`SELECT max(migration_id) AS latest FROM ${sql(MIGRATIONS_TABLE)}`
    if ((row?.latest ?? 0) >= LATEST_MIGRATION) return
  }
  yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: MIGRATIONS_TABLE })
}).pipe(
  Effect.mapError((e) =>
    e._tag === "SqlError" && e.reason._tag === "ConnectionError" ? failure("Unavailable", `cannot connect: ${sqlProblem(e)}`) : failure("Migration", `cannot bring the audit schema up to date (the first start needs the owner's rights, docs/audit.md): ${
      e._tag === "MigrationError" ? `${e.kind}: ${e.message}` : sqlProblem(e)
    }`)
  )
)

const Row = Schema.Struct({
  id: Schema.String,
  at: Schema.String,
  request_id: Schema.NullOr(Schema.String),
  api_key_id: Schema.NullOr(Schema.String),
  provider: Schema.String,
  pool_key: Schema.String,
  subs_id: Schema.String,
  phone_no_x: Schema.String,
  real_number_masked: Schema.String,
  real_number_hash: Schema.String,
  policy: Schema.Unknown,
  evidence: Schema.Unknown
})
const decodeRow = Schema.decodeUnknownEffect(Row)
const decodeRecord = Schema.decodeUnknownEffect(ExposureRecord)
const encodeEntry = Schema.encodeSync(ExposureEntry)

const json = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v)

/** The store over a SqlClient in context (migrated already). */
export const makePgStore = (where: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const table = sql(EXPOSURES_TABLE)
    return ExposureStore.of({
      kind: "postgres",
      where,
      append: (entry) => {
        const e = encodeEntry(entry)
        return sql`INSERT INTO ${table} (at, request_id, api_key_id, provider, pool_key, subs_id, phone_no_x, real_number_masked, real_number_hash, policy, evidence)
VALUES (${e.at}::timestamptz, ${e.requestId}, ${e.apiKeyId}, ${e.provider}, ${e.poolKey}, ${e.subsId}, ${e.phoneNoX}, ${e.realNumberMasked}, ${e.realNumberHash},
  ${JSON.stringify(e.policy)}::jsonb, ${JSON.stringify(e.evidence)}::jsonb)`.pipe(
          Effect.asVoid,
          Effect.mapError(unavailable("cannot write the exposure record"))
        )
      },
      query: (q) =>
        Effect.gen(function*() {
          const where = [
            q.after === undefined ? undefined : sql`id > ${q.after}`,
            q.from === undefined ? undefined : sql`at >= ${new Date(q.from).toISOString()}::timestamptz`,
            q.to === undefined ? undefined : sql`at < ${new Date(q.to).toISOString()}::timestamptz`,
            q.numberHash === undefined ? undefined : sql`real_number_hash = ${q.numberHash}`,
            q.poolKey === undefined ? undefined : sql`pool_key = ${q.poolKey}`,
            q.subsId === undefined ? undefined : sql`subs_id = ${q.subsId}`
          ].filter((c) => c !== undefined)
          const rows = yield* sql`SELECT id::text AS id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
  request_id, api_key_id, provider, pool_key, subs_id, phone_no_x, real_number_masked, real_number_hash, policy, evidence
FROM ${table} ${where.length === 0 ? sql.literal("") : sql`WHERE ${sql.and(where)}`} ORDER BY id LIMIT ${q.limit + 1}`.pipe(
            Effect.mapError(unavailable("cannot read exposure records"))
          )
          const records = yield* Effect.forEach(rows, (raw) =>
            decodeRow(raw).pipe(
              Effect.flatMap((r) =>
                decodeRecord({
                  id: Number(r.id), at: r.at, requestId: r.request_id, apiKeyId: r.api_key_id, provider: r.provider, poolKey: r.pool_key,
                  subsId: r.subs_id, phoneNoX: r.phone_no_x, realNumberMasked: r.real_number_masked, realNumberHash: r.real_number_hash,
                  policy: json(r.policy), evidence: json(r.evidence)
                })
              ),
              Effect.mapError(() => failure("Corrupt", "a row of the exposure table is not an exposure record"))
            ))
          const page = records.slice(0, q.limit)
          return { records: page, next: records.length > q.limit ? page[page.length - 1]!.id : null } satisfies ExposurePage
        })
    })
  })

export interface PgStoreOptions {
  readonly url: Redacted.Redacted<string>
  /** How long to wait for a connection (start-up and after an outage). */
  readonly connectTimeoutMs?: number | undefined
}

/** PgClient over the URL, migrations applied, and the store; fails at start when PostgreSQL cannot be reached or migrated. */
export const pgStoreLayer = (options: PgStoreOptions): Layer.Layer<ExposureStore, AuditStoreError> => {
  const where = describeUrl(Redacted.value(options.url))
  return Layer.effect(ExposureStore, Effect.gen(function*() {
    const client = yield* PgClient.make({
      url: options.url,
      connectTimeout: Duration.millis(options.connectTimeoutMs ?? 5000),
      applicationName: "precall-audit"
    }).pipe(Effect.mapError((e) => failure("Unavailable", `cannot connect to ${where}: ${sqlProblem(e)}`)))
    return yield* Effect.andThen(migrate, makePgStore(where)).pipe(Effect.provideService(SqlClient, client))
  })).pipe(Layer.provide(Reactivity.layer))
}
