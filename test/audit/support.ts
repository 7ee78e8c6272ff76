/** Shared pieces of the audit tests: a decided request, an engine that always answers with one decision, PostgreSQL schemas per run, a TCP proxy that can be cut. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Schema } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql/SqlClient"
import { randomBytes } from "node:crypto"
import { createServer, Socket } from "node:net"
import type { AddressInfo } from "node:net"
import { type ExposureEntry, makeNumberHasher } from "../../src/audit/record.ts"
import type { Decision } from "../../src/domain/decision.ts"
import { DecideRequest } from "../../src/domain/request.ts"
import { Engine } from "../../src/engine/Engine.ts"
import { settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"

export const PG_URL = process.env.PRECALL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"
export const HASH_SECRET = "audit-test-secret-0123456789abcdef"
export const REAL = "13900139000"

export const request = Schema.decodeUnknownSync(DecideRequest)({
  poolKey: "FC100000000001", subsId: "1000000000000001", phoneNoX: "17000000000", callerNo: "13800138000"
})

export const fallbackReal = (dial = REAL): Decision => ({
  decision: "fallback-real", dial, extension: null, subsId: null, provider: "fake", poolKey: "FC100000000001",
  status: 3, source: "provider", providerCode: null, attempts: 1, elapsedMs: 5, requestIds: ["r-1"],
  reason: "status 3 (QueryCallStatus): no X can carry the call; dialling the real callee"
})

export const useX: Decision = {
  decision: "use-x", dial: "17000000000", extension: null, subsId: "1000000000000001", provider: "fake", poolKey: "FC100000000001",
  status: 1, source: "provider", providerCode: null, attempts: 1, elapsedMs: 5, requestIds: ["r-1"], reason: "status 1: binding normal, dialling X"
}

/** An engine that answers every request with what `next` gives. */
export const scriptedEngine = (next: () => Decision) =>
  Layer.succeed(Engine, Engine.of({ providers: ["fake"], decide: () => Effect.sync(next) }))

export const auditSettings = (input: SettingsInput = {}) =>
  Effect.orDie(settingsFromObject({ allowRealFallback: true, auditHashSecret: HASH_SECRET, ...input }))

const admin = PgClient.layer({ url: Redacted.make(PG_URL) }).pipe(Layer.provide(Reactivity.layer))

/** Runs statements as the test database's superuser. */
export const asAdmin = (statements: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    for (const s of statements) yield* sql.unsafe(s)
  }).pipe(Effect.provide(admin), Effect.orDie)

export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(5).toString("hex")}`

/** A URL for `user` whose connections live in `schema`. */
export const urlIn = (schema: string, base = PG_URL) => {
  const u = new URL(base)
  u.searchParams.set("options", `-c search_path=${schema}`)
  return u.toString()
}

/** A schema of this test run's own, dropped (with the roles named) when the scope closes. */
export const ownSchema = (roles: ReadonlyArray<string> = []) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const schema = uniqueName("precall_audit_test")
      yield* asAdmin([`CREATE SCHEMA ${schema}`])
      return schema
    }),
    (schema) => asAdmin([`DROP SCHEMA ${schema} CASCADE`, ...roles.flatMap((r) => [`DROP OWNED BY ${r} CASCADE`, `DROP ROLE IF EXISTS ${r}`])]).pipe(Effect.ignore)
  )

/** A TCP proxy on a port of its own in front of `target`; `cut()` drops every connection and refuses new ones until `restore()`. */
export const cuttableProxy = async (targetPort = Number(new URL(PG_URL).port || 5432)) => {
  const sockets = new Set<Socket>()
  let up = true
  const server = createServer((client) => {
    if (!up) return client.destroy()
    const upstream = new Socket()
    upstream.connect(targetPort, "127.0.0.1")
    sockets.add(client)
    sockets.add(upstream)
    client.pipe(upstream).pipe(client)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on("error", drop).on("close", drop)
    upstream.on("error", drop).on("close", drop)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    cut: () => {
      up = false
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    restore: () => {
      up = true
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  }
}

const testHasher = makeNumberHasher(HASH_SECRET)

/** The `n`th record of a test, for `number`. */
export const entry = (n: number, number: string, overrides: Partial<ExposureEntry> = {}): ExposureEntry => ({
  at: new Date(Date.parse("2026-12-01T00:00:00.000Z") + n * 60_000).toISOString(),
  requestId: `req-${n}`, apiKeyId: "k_0123456789ab", provider: "aliyun", poolKey: "FC100000000001", subsId: `S${n}`, phoneNoX: "17000000000",
  realNumberMasked: `****${number.slice(-4)}`, realNumberHash: testHasher.hash(number),
  policy: { allowRealFallback: true, degradedDecision: "use-x" },
  evidence: { source: "provider", status: 3, providerCode: null, reason: "status 3: no X; dialling the real callee", providerRequestIds: [`p-${n}`] },
  ...overrides
})

