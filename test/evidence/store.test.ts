/**
 * The evidence store: X health on the TestClock (threshold, window, callee outcomes never marking an
 * X), binding expiry, X status, event dedupe; in memory, and on the machine's Redis shared by two
 * stores, where values written without the secret are rejected and counted.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { randomUUID } from "node:crypto"
import { createClient } from "redis"
import { type OutcomeClass, outcomeClasses } from "../../src/evidence/classes.ts"
import { EvidenceStore, type EvidenceStoreShape, evidenceStoreLayer, makeEvidenceStore } from "../../src/evidence/EvidenceStore.ts"
import { settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import { noRedis, SharedRedis, sharedRedisLayer } from "../../src/redis/SharedRedis.ts"

const X = "+8617000000001"
const OTHER_X = "+8617000000002"
const memoryStore = (threshold = 3, windowS = 600) => makeEvidenceStore({ xFailureThreshold: threshold, xFailureWindowS: windowS }, noRedis)

const fail = (store: EvidenceStoreShape, outcomeClass: OutcomeClass, phoneNoX = X, callId?: string) =>
  store.recordOutcome({ provider: "huawei", phoneNoX, outcomeClass, code: `test:${outcomeClass}`, callId })

describe("X health (memory, TestClock)", () => {
  it.effect("three number-class failures within the window mark the X; the window lets them go", () =>
    Effect.gen(function*() {
      const store = memoryStore()
      yield* fail(store, "number")
      yield* TestClock.adjust("100 seconds")
      yield* fail(store, "number")
      assert.isFalse((yield* store.xHealth("huawei", X)).unhealthy, "two is below the threshold")
      yield* TestClock.adjust("100 seconds")
      yield* fail(store, "number")
      const marked = yield* store.xHealth("huawei", X)
      assert.deepInclude(marked, { unhealthy: true, numberFailures: 3, threshold: 3, windowS: 600 })
      assert.isFalse((yield* store.xHealth("huawei", OTHER_X)).unhealthy, "another X is untouched")
      assert.isFalse((yield* store.xHealth("aliyun", X)).unhealthy, "the same number on another provider is another X")
      assert.isTrue((yield* store.xHealth("huawei", "17000000001")).unhealthy, "the national form is the same X")
      // the first failure leaves the window 600 s after it happened
      yield* TestClock.adjust("401 seconds")
      assert.deepInclude(yield* store.xHealth("huawei", X), { unhealthy: false, numberFailures: 2 })
    }))

  it.effect("the same call reported twice counts once", () =>
    Effect.gen(function*() {
      const store = memoryStore()
      for (let i = 0; i < 3; i++) yield* fail(store, "number", X, "call-1")
      assert.deepInclude(yield* store.xHealth("huawei", X), { unhealthy: false, numberFailures: 1 })
    }))

  it.effect("an outcome older than the window does not count", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("2 hours")
      const store = memoryStore(1)
      const now = Date.parse("1970-01-01T02:00:00Z")
      yield* store.recordOutcome({ provider: "huawei", phoneNoX: X, outcomeClass: "number", code: "q850:1", at: now - 601_000 })
      assert.isFalse((yield* store.xHealth("huawei", X)).unhealthy)
      yield* store.recordOutcome({ provider: "huawei", phoneNoX: X, outcomeClass: "number", code: "q850:1", at: now - 599_000 })
      assert.isTrue((yield* store.xHealth("huawei", X)).unhealthy)
    }))

  it.effect("health read at a time the caller gives: the window ends there, and in memory the answer is an exit at once", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("2 hours")
      const store = memoryStore(1)
      const now = Date.parse("1970-01-01T02:00:00Z")
      yield* store.recordOutcome({ provider: "huawei", phoneNoX: X, outcomeClass: "number", code: "q850:1", at: now - 100_000 })
      const atNow = store.xHealth("huawei", X, now)
      assert.isTrue(Exit.isExit(atNow), "no fiber needed to read it")
      assert.isTrue((yield* atNow).unhealthy)
      // the same outcome, seen from 501 s later by the caller's clock (the fiber's has not moved): out of the window
      assert.isFalse((yield* store.xHealth("huawei", X, now + 501_000)).unhealthy)
      assert.isTrue((yield* store.xHealth("huawei", X)).unhealthy, "without a time, the fiber's Clock")
    }))

  it("health never marks an X from outcomes other than number-class ones, however many (property)", () =>
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...outcomeClasses.filter((c) => c !== "number")), { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        (classes, threshold) => {
          const health = Effect.runSync(Effect.gen(function*() {
            const store = memoryStore(threshold)
            for (const c of classes) yield* fail(store, c)
            return yield* store.xHealth("huawei", X)
          }))
          return !health.unhealthy && health.numberFailures === 0 &&
            health.counts.callee + health.counts.transient + health.counts.normal + health.counts.other === classes.length
        }
      ),
      { numRuns: 100 }
    ))

  it("an X is unhealthy exactly when its number-class failures in the window reach the threshold (property)", () =>
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...outcomeClasses), { maxLength: 30 }), fc.integer({ min: 1, max: 6 }), (classes, threshold) => {
        const health = Effect.runSync(Effect.gen(function*() {
          const store = memoryStore(threshold)
          for (const c of classes) yield* fail(store, c)
          return yield* store.xHealth("huawei", X)
        }))
        return health.unhealthy === (classes.filter((c) => c === "number").length >= threshold)
      }),
      { numRuns: 100 }
    ))
})

describe("binding cache, X status, last call, dedupe (memory)", () => {
  it.effect("a binding's expiry is its bind time plus its duration; 0 never expires", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("10 seconds")
      const store = memoryStore()
      const made = yield* store.rememberBinding({ provider: "huawei", subsId: "s-1", phoneNoX: X, mode: "AXB", durationS: 300 })
      assert.deepStrictEqual(made, { provider: "huawei", subsId: "s-1", phoneNoX: X, mode: "AXB", boundAt: 10_000, durationS: 300, expiresAt: 310_000 })
      const open = yield* store.rememberBinding({ provider: "huawei", subsId: "s-2", phoneNoX: X, mode: "AX" })
      assert.strictEqual(open.expiresAt, null)
      // a modify with a new duration restarts the clock
      yield* TestClock.adjust("100 seconds")
      yield* store.rememberBinding({ provider: "huawei", subsId: "s-1", phoneNoX: X, mode: "AXB", durationS: 60 })
      assert.strictEqual((yield* store.binding("huawei", "s-1"))?.expiresAt, 170_000)
      // still known after it expired, so the engine can tell "expired" from "unknown"
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* store.binding("huawei", "s-1"))?.subsId, "s-1")
      yield* store.forgetBinding("huawei", "s-1")
      assert.isUndefined(yield* store.binding("huawei", "s-1"))
    }))

  it.effect("bindings whose provider and SubsId run together the same way are kept apart", () =>
    Effect.gen(function*() {
      const store = memoryStore()
      // the memory keys join the parts: "a" + "1:b" and "a:1" + "b" must not name one entry
      yield* store.rememberBinding({ provider: "a", subsId: "1:b", phoneNoX: X, mode: "AXB", durationS: 300 })
      assert.isUndefined(yield* store.binding("a:1", "b"))
      yield* store.rememberBinding({ provider: "a:1", subsId: "b", phoneNoX: X, mode: "AXN", durationS: 300 })
      assert.strictEqual((yield* store.binding("a", "1:b"))?.mode, "AXB")
      assert.strictEqual((yield* store.binding("a:1", "b"))?.mode, "AXN")
    }))

  it.effect("X status: last push wins, with its receive time; unknown when never pushed", () =>
    Effect.gen(function*() {
      const store = memoryStore()
      assert.isUndefined(yield* store.xStatus("huawei", X))
      yield* TestClock.adjust("5 seconds")
      yield* store.recordXStatus("huawei", X, { availability: "unavailable", status: "10", cause: "2" })
      assert.deepStrictEqual(yield* store.xStatus("huawei", X), { availability: "unavailable", status: "10", cause: "2", at: 5000 })
      yield* store.recordXStatus("huawei", X, { availability: "available", status: "5", cause: null })
      assert.strictEqual((yield* store.xStatus("huawei", X))?.availability, "available")
    }))

  it.effect("last call per binding: a late delivery of an older call does not replace a newer one", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1 hour")
      const store = memoryStore()
      const now = 3_600_000
      yield* store.recordOutcome({ provider: "huawei", phoneNoX: X, subsId: "s-1", outcomeClass: "other", code: "stateCode:8014", at: now - 1000 })
      yield* store.recordOutcome({ provider: "huawei", phoneNoX: X, subsId: "s-1", outcomeClass: "normal", code: "stateCode:0", at: now - 5000 })
      assert.deepStrictEqual(yield* store.lastCall("huawei", "s-1"), { outcomeClass: "other", code: "stateCode:8014", at: now - 1000 })
    }))

  it.effect("an event id is seen first once, again after its lifetime", () =>
    Effect.gen(function*() {
      const store = memoryStore()
      assert.isTrue(yield* store.firstSeen("cdr:1", 60_000))
      assert.isFalse(yield* store.firstSeen("cdr:1", 60_000))
      assert.isTrue(yield* store.firstSeen("cdr:2", 60_000))
      yield* TestClock.adjust("61 seconds")
      assert.isTrue(yield* store.firstSeen("cdr:1", 60_000))
    }))
})

const REDIS_URL = "redis://127.0.0.1:6379"

/** Two stores (two instances) on the machine's Redis under a fresh prefix, removed afterwards. */
const onRedis = <A, E>(body: (a: EvidenceStoreShape, b: EvidenceStoreShape, prefix: string) => Effect.Effect<A, E>, extra: SettingsInput = {}) =>
  Effect.scoped(Effect.gen(function*() {
    const prefix = `precall-test:${randomUUID()}:`
    const client = createClient({ url: REDIS_URL })
    yield* Effect.acquireRelease(Effect.promise(() => client.connect()), () =>
      Effect.promise(async () => {
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await client.del(keys)
        client.destroy()
      }))
    const settings = yield* Effect.orDie(settingsFromObject({ redisUrl: REDIS_URL, redisPrefix: prefix, redisTimeoutMs: 200, redisKeySecret: "shared-secret", ...extra }))
    const instance = Effect.map(Layer.build(evidenceStoreLayer(settings).pipe(Layer.provideMerge(sharedRedisLayer(settings)))), (ctx) => {
      assert.isTrue(Context.get(ctx, SharedRedis).redis !== undefined)
      return Context.get(ctx, EvidenceStore)
    })
    return yield* body(yield* instance, yield* instance, prefix)
  }))

const newClient = () => createClient({ url: REDIS_URL })
const rawRedis = <A>(f: (client: ReturnType<typeof newClient>) => Promise<A>) =>
  Effect.promise(async () => {
    const client = newClient()
    await client.connect()
    try {
      return await f(client)
    } finally {
      client.destroy()
    }
  })

const keysOf = (prefix: string, kind: string) => rawRedis(async (c) => {
  const out: Array<string> = []
  for await (const keys of c.scanIterator({ MATCH: `${prefix}ev:${kind}:*` })) out.push(...keys)
  return out
})

describe("evidence on the shared Redis", () => {
  it.live("what one instance records, the other reads: X status, binding, health, dedupe", () =>
    onRedis((a, b) =>
      Effect.gen(function*() {
        yield* a.recordXStatus("huawei", X, { availability: "unavailable", status: "9", cause: "5" })
        assert.deepInclude(yield* b.xStatus("huawei", X), { availability: "unavailable", status: "9", cause: "5" })
        yield* a.rememberBinding({ provider: "huawei", subsId: "s-9", phoneNoX: X, mode: "AXB", durationS: 600 })
        assert.strictEqual((yield* b.binding("huawei", "s-9"))?.durationS, 600)
        for (let i = 0; i < 3; i++) yield* fail(a, "number")
        assert.isTrue((yield* b.xHealth("huawei", X)).unhealthy)
        assert.isTrue(yield* a.firstSeen("push:1", 60_000))
        assert.isFalse(yield* b.firstSeen("push:1", 60_000), "a re-push reaching the other instance is a repeat")
        yield* fail(b, "number", X, "call-7")
        yield* fail(a, "number", X, "call-7")
        assert.strictEqual((yield* a.xHealth("huawei", X)).numberFailures, 4, "one call reported to both instances counts once")
      })))

  it.live("no key carries the X number, the binding id or the event id in clear", () =>
    onRedis((a, _b, prefix) =>
      Effect.gen(function*() {
        yield* a.recordXStatus("huawei", X, { availability: "unavailable", status: "10", cause: null })
        yield* a.rememberBinding({ provider: "huawei", subsId: "s-secret", phoneNoX: X, mode: "AXB", durationS: 60 })
        yield* a.recordOutcome({ provider: "huawei", phoneNoX: X, subsId: "s-secret", outcomeClass: "number", code: "q850:1" })
        yield* a.firstSeen(`numStatus:${X}:10`, 60_000)
        const keys = yield* keysOf(prefix, "*")
        assert.isAtLeast(keys.length, 5)
        for (const k of keys) assert.notMatch(k, /17000000001|s-secret|numStatus/)
      })))

  it.live("values written without the secret are rejected and counted: a forged X status, binding and health entry", () =>
    onRedis((a, b, prefix) =>
      Effect.gen(function*() {
        yield* a.recordXStatus("huawei", X, { availability: "unavailable", status: "10", cause: "1" })
        yield* a.rememberBinding({ provider: "huawei", subsId: "s-1", phoneNoX: X, mode: "AXB", durationS: 60 })
        const [xKey] = yield* keysOf(prefix, "x")
        const [bKey] = yield* keysOf(prefix, "b")
        // an attacker with write access rewrites the payloads but cannot compute the seal
        yield* rawRedis(async (c) => {
          const x = (await c.get(xKey!))!
          await c.set(xKey!, x.replace('"unavailable"', '"available"'))
          const bound = (await c.get(bKey!))!
          await c.set(bKey!, bound.replace('"durationS":60', '"durationS":0'))
        })
        const before = yield* b.forgedRejected
        assert.isUndefined(yield* b.xStatus("huawei", X), "the forged status is not believed")
        assert.isUndefined(yield* b.binding("huawei", "s-1"))
        // forged outcomes: three unsealed "number" members planted in a healthy X's window
        yield* fail(a, "normal", OTHER_X)
        const [hKey] = yield* keysOf(prefix, "h")
        yield* rawRedis(async (c) => {
          for (let i = 0; i < 3; i++) await c.zAdd(hKey!, { score: Date.now(), value: `v1.AAAA.number|forged-${i}` })
        })
        const health = yield* b.xHealth("huawei", OTHER_X)
        assert.deepInclude(health, { unhealthy: false, numberFailures: 0 })
        assert.strictEqual(health.counts.normal, 1)
        assert.strictEqual((yield* b.forgedRejected) - before, 5)
      })))

  it.live("a value sealed for one key does not verify under another (no moving a broken X's status onto a healthy one)", () =>
    onRedis((a, b, prefix) =>
      Effect.gen(function*() {
        yield* a.recordXStatus("huawei", X, { availability: "unavailable", status: "10", cause: "1" })
        yield* a.recordXStatus("huawei", OTHER_X, { availability: "available", status: "5", cause: null })
        const keys = yield* keysOf(prefix, "x")
        assert.strictEqual(keys.length, 2)
        yield* rawRedis(async (c) => {
          const [k1, k2] = keys as [string, string]
          const v1 = (await c.get(k1))!
          const v2 = (await c.get(k2))!
          await c.set(k1, v2)
          await c.set(k2, v1)
        })
        assert.isUndefined(yield* b.xStatus("huawei", X))
        assert.isUndefined(yield* b.xStatus("huawei", OTHER_X))
      })))
})
