/**
 * The Huawei push route over loopback: signature (good, bad, missing, other app, stale → 401 and
 * nothing recorded), replay of a captured push, idempotency under re-pushes, what each push type
 * records, and two instances on the machine's Redis where a push to one is seen by the other.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { createClient } from "redis"
import { EvidenceStore, type EvidenceStoreShape, evidenceStoreLayer, makeEvidenceStore } from "../../src/evidence/EvidenceStore.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { noRedis, sharedRedisLayer } from "../../src/redis/SharedRedis.ts"
import { APP, fee, numStatus, post, servePushes, signedHeaders } from "./pushSupport.ts"

const X = "+8617000000001"
const memoryStore = () => makeEvidenceStore({ xFailureThreshold: 3, xFailureWindowS: 600 }, noRedis)

const withRoute = <A, E>(body: (url: string, store: EvidenceStoreShape) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.gen(function*() {
    const store = memoryStore()
    return yield* body(yield* servePushes(store), store)
  }))

const broken = numStatus([{ number: X, status: "10", cause: "2" }])

describe("Huawei push route: authentication", () => {
  it.live("a push signed with the app's secret is answered 200 with an empty body and recorded", () =>
    withRoute((url, store) =>
      Effect.gen(function*() {
        const res = yield* post(url, broken, signedHeaders())
        assert.deepStrictEqual(res, { status: 200, text: "" })
        assert.deepInclude(yield* store.xStatus("huawei", X), { availability: "unavailable", status: "10", cause: "2" })
      })))

  it.live("the legacy WSSE scheme verifies for an app configured with it", () =>
    Effect.scoped(Effect.gen(function*() {
      const store = memoryStore()
      const wsseApp = { ...APP, auth: "wsse" as const }
      const url = yield* servePushes(store, undefined, [wsseApp])
      assert.strictEqual((yield* post(url, broken, signedHeaders())).status, 401, "an AKSK header for a WSSE app")
      assert.strictEqual((yield* post(url, broken, signedHeaders({ app: wsseApp }))).status, 200)
      assert.strictEqual((yield* store.xStatus("huawei", X))?.status, "10")
    })))

  it.live("bad digest, missing header, another app's key, a stale Created: 401, nothing recorded", () =>
    withRoute((url, store) =>
      Effect.gen(function*() {
        const cases: Array<Record<string, string>> = [
          signedHeaders({ secret: "not-the-secret" }),
          { "content-type": "application/json" },
          signedHeaders({ app: { ...APP, appKey: "someOtherApp", appSecret: Redacted.make("x") } }),
          signedHeaders({ at: Date.now() - 330_000 }),
          signedHeaders({ at: Date.now() + 330_000 })
        ]
        for (const headers of cases) {
          const res = yield* post(url, broken, headers)
          assert.strictEqual(res.status, 401)
          assert.deepStrictEqual(JSON.parse(res.text).error.code, "unauthorized")
        }
        // a bad signature with a garbage body is still 401, not a parse error
        assert.strictEqual((yield* post(url, "not json", signedHeaders({ secret: "nope" }))).status, 401)
        assert.isUndefined(yield* store.xStatus("huawei", X))
      })))

  it.live("a captured push sent again (same nonce) is refused and cannot undo a newer status", () =>
    withRoute((url, store) =>
      Effect.gen(function*() {
        const captured = signedHeaders()
        assert.strictEqual((yield* post(url, broken, captured)).status, 200)
        assert.strictEqual((yield* post(url, numStatus([{ number: X, status: "5" }]), signedHeaders())).status, 200)
        assert.strictEqual((yield* post(url, broken, captured)).status, 401)
        assert.deepInclude(yield* store.xStatus("huawei", X), { availability: "available", status: "5" })
      })))

  it.live("a signed body that is not a Huawei push is a 400, recording nothing", () =>
    withRoute((url, store) =>
      Effect.gen(function*() {
        const notJson = yield* post(url, "{oops", signedHeaders())
        assert.strictEqual(notJson.status, 400)
        assert.strictEqual((yield* post(url, { hello: 1 }, signedHeaders())).status, 400)
        assert.isUndefined(yield* store.xStatus("huawei", X))
      })))
})

/** A Huawei push time (UTC, `yyyy-MM-dd HH:mm:ss`) `s` seconds ago. */
const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString().slice(0, 19).replace("T", " ")

const cdr = (sessionId: string, extra: Record<string, unknown>) => ({
  sessionId,
  icid: `icid-${sessionId}`,
  bindNum: X,
  subscriptionId: "sub-1",
  callInTime: ago(40),
  callEndTime: ago(10),
  ...extra
})

describe("Huawei push route: what pushes record, and re-pushes", () => {
  it.live("a CDR re-pushed (new signature, same sessionId and icid) is acknowledged and counted once", () =>
    withRoute((url, store) =>
      Effect.gen(function*() {
        const body = fee([cdr("s-1", { ulFailReason: 0, fwdUnaswRsn: 1 })])
        for (let i = 0; i < 4; i++) assert.deepStrictEqual(yield* post(url, body, signedHeaders()), { status: 200, text: "" })
        const health = yield* store.xHealth("huawei", X)
        // a number problem on the forwarded leg is the callee's: counted once, and not against the X
        assert.deepInclude(health, { numberFailures: 0 })
        assert.strictEqual(health.counts.callee, 1)
        assert.deepInclude(yield* store.lastCall("huawei", "sub-1"), { outcomeClass: "callee", code: "fwdUnaswRsn:1" })
      })))

  it.live("CDRs whose tear-down code says the X failed (8055) mark the X at the threshold; one merged push carries several", () =>
    withRoute((url, store) =>
      Effect.gen(function*() {
        const body = fee([cdr("a", { ulFailReason: 8055 }), cdr("b", { ulFailReason: "8055" }), cdr("c", { fwdAnswerTime: ago(30) })])
        assert.strictEqual((yield* post(url, body, signedHeaders())).status, 200)
        assert.strictEqual((yield* post(url, body, signedHeaders())).status, 200, "the re-push of the merged CDRs")
        assert.deepInclude(yield* store.xHealth("huawei", X), { unhealthy: false, numberFailures: 2 })
        assert.strictEqual((yield* store.xHealth("huawei", X)).counts.normal, 1)
        assert.strictEqual((yield* post(url, fee([cdr("d", { ulFailReason: 8055 })]), signedHeaders())).status, 200)
        assert.deepInclude(yield* store.xHealth("huawei", X), { unhealthy: true, numberFailures: 3 })
      })))

  it.live("a disconnect event finds its X through the binding cache", () =>
    withRoute((url, store) =>
      Effect.gen(function*() {
        yield* store.rememberBinding({ provider: "huawei", subsId: "sub-7", phoneNoX: X, mode: "AXB", durationS: 3600 })
        const event = { eventType: "disconnect", statusInfo: { sessionId: "sess-7", subscriptionId: "sub-7", stateCode: 8102, timestamp: ago(5) } }
        assert.strictEqual((yield* post(url, event, signedHeaders())).status, 200)
        assert.strictEqual((yield* post(url, event, signedHeaders())).status, 200)
        // 8102 busy: the callee's doing, counted once, never against the X
        assert.deepInclude(yield* store.xHealth("huawei", X), { unhealthy: false, numberFailures: 0 })
        assert.strictEqual((yield* store.xHealth("huawei", X)).counts.callee, 1)
        assert.deepInclude(yield* store.lastCall("huawei", "sub-7"), { outcomeClass: "callee", code: "stateCode:8102" })
        // a CDR from before the window still tells the binding's last call, but not the X's health
        const old = fee([cdr("old", { subscriptionId: "sub-8", ulFailReason: 8014, callEndTime: ago(3600) })])
        assert.strictEqual((yield* post(url, old, signedHeaders())).status, 200)
        assert.deepInclude(yield* store.lastCall("huawei", "sub-8"), { outcomeClass: "other", code: "stateCode:8014" })
        assert.strictEqual((yield* store.xHealth("huawei", X)).counts.other, 0)
      })))
})

describe("two instances on the machine's Redis", () => {
  it.live("a push received by one instance is what the other instance's store reads", () =>
    Effect.scoped(Effect.gen(function*() {
      const prefix = `precall-test:${randomUUID()}:`
      const client = createClient({ url: "redis://127.0.0.1:6379" })
      yield* Effect.acquireRelease(Effect.promise(() => client.connect()), () =>
        Effect.promise(async () => {
          for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await client.del(keys)
          client.destroy()
        }))
      const settings = yield* Effect.orDie(settingsFromObject({ redisUrl: "redis://127.0.0.1:6379", redisPrefix: prefix, redisTimeoutMs: 200, redisKeySecret: "k" }))
      const instance = Effect.map(Layer.build(evidenceStoreLayer(settings).pipe(Layer.provide(sharedRedisLayer(settings)))), (c) => Context.get(c, EvidenceStore))
      const one = yield* instance
      const other = yield* instance
      const url = yield* servePushes(one)
      assert.isUndefined(yield* other.xStatus("huawei", X))
      assert.strictEqual((yield* post(url, broken, signedHeaders())).status, 200)
      assert.deepInclude(yield* other.xStatus("huawei", X), { availability: "unavailable", status: "10" })
      // the re-push reaching the other instance is a repeat there too
      const body = fee([cdr("shared-1", { ulFailReason: 0, fwdUnaswRsn: 17 })])
      assert.strictEqual((yield* post(url, body, signedHeaders())).status, 200)
      const otherUrl = yield* servePushes(other)
      assert.strictEqual((yield* post(otherUrl, body, signedHeaders())).status, 200)
      assert.strictEqual((yield* one.xHealth("huawei", X)).counts.callee, 1)
    })))
})
