/**
 * The readiness probe against endpoints that do not answer: it reports them unready, quickly, and
 * never fails. The exposure audit store's probe, and when its failure makes the instance unready.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { HttpClient } from "effect/http"
import { AuditStoreError, ExposureStore } from "../../src/audit/ExposureStore.ts"
import { memoryStoreLayer } from "../../src/audit/memoryStore.ts"
import { providerBreakersLayer } from "../../src/breaker/ProviderBreakers.ts"
import { aliyunEmulatorScoped } from "../../src/emulator/aliyun/index.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { noRedis, SharedRedis } from "../../src/redis/SharedRedis.ts"
import { probeAuditStore, probedEndpoint, probeEndpoint, Readiness, readinessLayer } from "../../src/service/readiness.ts"

/** Port 1 (tcpmux): nothing on this machine listens there. */
const UNREACHABLE = "http://127.0.0.1:1"

it.live("an unreachable endpoint is reported not ok with the reason, and the probe itself succeeds", () =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const check = yield* probeEndpoint(client, UNREACHABLE)
    assert.isFalse(check.ok)
    assert.match(check.detail, /^unreachable: /)
    assert.strictEqual(check.endpoint, UNREACHABLE)
    assert.isNotNull(check.latencyMs)
  }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

it.effect("the probe goes to the default provider: Aliyun when it is configured, Huawei when it is the only one", () =>
  Effect.gen(function*() {
    const both = yield* Effect.orDie(settingsFromObject({ aliyunEndpoint: "http://127.0.0.1:8931", huaweiEndpoint: "http://127.0.0.1:8932" }))
    assert.strictEqual(probedEndpoint(both), "http://127.0.0.1:8931")
    const huaweiOnly = yield* Effect.orDie(settingsFromObject({ huaweiEndpoint: "http://127.0.0.1:8932" }))
    assert.strictEqual(probedEndpoint(huaweiOnly), "http://127.0.0.1:8932")
  }))

/** A store that cannot be reached, as PostgreSQL down would be. */
const downStore = Layer.succeed(ExposureStore, ExposureStore.of({
  kind: "postgres",
  where: "db.internal:5432/precall",
  append: () => Effect.fail(new AuditStoreError({ reason: "Unavailable", store: "postgres", message: "cannot connect to db.internal:5432/precall: ECONNREFUSED" })),
  query: () => Effect.fail(new AuditStoreError({ reason: "Unavailable", store: "postgres", message: "cannot connect to db.internal:5432/precall: ECONNREFUSED" }))
}))

/** The readiness report over a reachable provider (the Aliyun emulator) and the given exposure store. */
const reportWith = (store: Layer.Layer<ExposureStore>, allowRealFallback: boolean) =>
  Effect.scoped(Effect.gen(function*() {
    const emulator = yield* aliyunEmulatorScoped()
    const settings = yield* Effect.orDie(settingsFromObject({ aliyunEndpoint: emulator.url, allowRealFallback, auditHashSecret: "0123456789abcdef0123" }))
    const context = yield* Layer.build(readinessLayer(settings).pipe(
      Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, providerBreakersLayer(settings), Layer.succeed(SharedRedis, noRedis), store))
    ))
    return yield* Context.get(context, Readiness).check
  }))

describe("the exposure audit store in /readyz", () => {
  it.live("a failing store makes the instance unready when real-number fallback is allowed (each fallback-real would be refused)", () =>
    Effect.gen(function*() {
      const report = yield* reportWith(downStore, true)
      assert.isFalse(report.ready)
      assert.isTrue(report.checks.provider.ok)
      assert.deepInclude(report.checks.exposureAudit, { ok: false, store: "postgres", where: "db.internal:5432/precall", required: true })
      assert.match(report.checks.exposureAudit!.detail, /^Unavailable: cannot connect/)
    }))

  it.live("with fallback off the failure is reported and the instance stays ready (nothing is written)", () =>
    Effect.gen(function*() {
      const report = yield* reportWith(downStore, false)
      assert.isTrue(report.ready)
      assert.deepInclude(report.checks.exposureAudit, { ok: false, required: false })
    }))

  it.live("a store that answers is ok, with where it is and how long the one-record query took", () =>
    Effect.gen(function*() {
      const report = yield* reportWith(memoryStoreLayer(), true)
      assert.isTrue(report.ready)
      assert.deepInclude(report.checks.exposureAudit, { ok: true, store: "memory", where: "memory", required: true, detail: "answers (one-record query)" })
      assert.isNumber(report.checks.exposureAudit!.latencyMs)
    }))

  it.live("a store that does not answer within the probe timeout is not ok", () =>
    Effect.gen(function*() {
      const check = yield* probeAuditStore({ kind: "file", where: "/audit/exposures.jsonl", append: () => Effect.never, query: () => Effect.never }, true)
      assert.deepInclude(check, { ok: false, store: "file", required: true, latencyMs: null })
      assert.match(check.detail, /^no answer within \d+ ms$/)
    }))
})
