/** The audit as composed for every door (PrecallWith, createPrecall): refused without its hash secret, typed when its store is away. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ExposureStore } from "../../src/audit/ExposureStore.ts"
import { memoryStoreLayer } from "../../src/audit/memoryStore.ts"
import { Engine } from "../../src/engine/Engine.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { createPrecall, PrecallError, PrecallWith } from "../../src/precall.ts"
import { PrivacyNumberProvider } from "../../src/providers/Provider.ts"
import { HASH_SECRET, REAL, request } from "./support.ts"

const statusThree = Layer.succeed(PrivacyNumberProvider, PrivacyNumberProvider.of({
  name: "fake", endpoint: "http://127.0.0.1:1",
  queryCallStatus: () => Effect.succeed({ status: 3, calledNo: undefined, extension: undefined, requestId: "r" }),
  bindingDetail: () => Effect.die("not scripted"), bind: () => Effect.die("not scripted")
}))

describe("PrecallWith and the audit", () => {
  it.effect("the engine it provides is the audited one: a fallback-real lands in the store", () =>
    Effect.gen(function*() {
      const settings = yield* settingsFromObject({ allowRealFallback: true, auditHashSecret: HASH_SECRET, statusTtlMs: 0 })
      const { d, page } = yield* Effect.gen(function*() {
        const d = yield* (yield* Engine).decide({ ...request, realCallee: REAL } as typeof request)
        return { d, page: yield* (yield* ExposureStore).query({ limit: 10 }) }
      }).pipe(Effect.provide(PrecallWith(settings, statusThree, memoryStoreLayer())))
      assert.deepStrictEqual([d.decision, page.records.length, page.records[0]?.realNumberMasked], ["fallback-real", 1, "****9000"])
    }))

  it.effect("real-number fallback without PRECALL_AUDIT_HASH_SECRET: InvalidSettings at start", () =>
    Effect.gen(function*() {
      const settings = yield* settingsFromObject({ allowRealFallback: true })
      const error = yield* Effect.flip(Effect.provide(Effect.service(Engine), PrecallWith(settings, statusThree, memoryStoreLayer())))
      assert.strictEqual(error._tag, "InvalidSettings")
      assert.include(error.message, "PRECALL_AUDIT_HASH_SECRET")
    }))

  it.live("createPrecall: INVALID_SETTINGS without the secret, AUDIT_UNAVAILABLE when PostgreSQL cannot be reached", () =>
    Effect.promise(async () => {
      const noSecret = await createPrecall({ aliyunEndpoint: "http://127.0.0.1:1", allowRealFallback: true }).catch((e: unknown) => e)
      assert.instanceOf(noSecret, PrecallError)
      assert.strictEqual((noSecret as PrecallError).code, "INVALID_SETTINGS")
      const down = await createPrecall({ aliyunEndpoint: "http://127.0.0.1:1", auditDatabaseUrl: "postgres://writer:hunter2@127.0.0.1:1/precall" }).catch((e: unknown) => e)
      assert.instanceOf(down, PrecallError)
      assert.strictEqual((down as PrecallError).code, "AUDIT_UNAVAILABLE")
      assert.notInclude((down as PrecallError).message, "hunter2")
    }))
})
