/**
 * The status cache on the TestClock, through the engine: status 1 is reused within the TTL and not
 * after; 2, 3, 4 and errors never are; a TTL of 0 disables it.
 */
import { assert, describe, it } from "@effect/vitest"
import { deriveKey } from "../../src/redis/sealed.ts"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import type { Decision } from "../../src/domain/decision.ts"
import type { DecideRequest } from "../../src/domain/request.ts"
import type { StatusAnswer } from "../../src/domain/status.ts"
import type { EngineShape } from "../../src/engine/Engine.ts"
import { makeStatusCache } from "../../src/cache/StatusCache.ts"
import { makeTtlMap } from "../../src/cache/TtlMap.ts"
import * as fc from "fast-check"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { noRedis } from "../../src/redis/SharedRedis.ts"
import { sharingKeys, sharingKeySecret } from "../../src/engine/DecisionSharing.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { Engine, engineLayer } from "../../src/engine/Engine.ts"
import { cacheLayer } from "../../src/cache/cacheLayer.ts"
import { EvidenceStore, makeEvidenceStore } from "../../src/evidence/EvidenceStore.ts"
import { PrivacyNumberProvider } from "../../src/providers/Provider.ts"
import { SharedRedis } from "../../src/redis/SharedRedis.ts"
import { fail, failWith, makeFakeProvider, ok, type Outcome, script } from "../engine/fakeProvider.ts"
import { cachedEngine, request, settingsSync, X } from "./support.ts"

type Answer = Omit<StatusAnswer, "requestId">
const status = (s: 1 | 2 | 3 | 4, calledNo?: string): Answer => ({ status: s, calledNo, extension: undefined })

/** One decision: the provider answers at once, so advancing the clock by 0 lets it finish. */
const decideNow = (engine: EngineShape, req: DecideRequest) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(engine.decide(req))
    yield* TestClock.adjust(0)
    return yield* Fiber.join(fiber)
  })

const newBinding = { subsId: "2000000000000001", phoneNoX: "17100000002", extension: undefined }

const setup = (statusTtlMs: number, outcomes: ReadonlyArray<Outcome<Answer>>) =>
  Effect.gen(function*() {
    const { log, provider } = makeFakeProvider(script({ status: outcomes, bind: [ok(newBinding), ok(newBinding)] }))
    const engine = yield* cachedEngine(settingsSync({ statusTtlMs, maxAttempts: 1, allowRealFallback: true }), provider)
    const statusCalls = () => log.filter((c) => c.action === "QueryCallStatus").length
    return { engine, statusCalls }
  })

describe("status cache", () => {
  it.effect("status 1 is reused within the TTL, with source cache and no provider call", () =>
    Effect.gen(function*() {
      const { engine, statusCalls } = yield* setup(2000, [ok(status(1, X)), ok(status(1, X))])
      const first = yield* decideNow(engine, request())
      yield* TestClock.adjust(1999)
      const reused: Decision = yield* decideNow(engine, request())
      assert.strictEqual(first.source, "provider")
      assert.deepInclude(reused, { decision: "use-x", dial: X, status: 1, source: "cache", attempts: 0 })
      assert.deepStrictEqual(reused.requestIds, [])
      assert.strictEqual(statusCalls(), 1)
    }))

  it.effect("not after the TTL", () =>
    Effect.gen(function*() {
      const { engine, statusCalls } = yield* setup(2000, [ok(status(1, X)), ok(status(1, X))])
      yield* decideNow(engine, request())
      yield* TestClock.adjust(2000)
      const again = yield* decideNow(engine, request())
      assert.deepInclude(again, { source: "provider", attempts: 1 })
      assert.strictEqual(statusCalls(), 2)
    }))

  it.effect("the key is the binding and the caller: another caller or binding asks the provider", () =>
    Effect.gen(function*() {
      const { engine, statusCalls } = yield* setup(2000, [ok(status(1, X)), ok(status(1, X)), ok(status(1, X))])
      yield* decideNow(engine, request())
      assert.strictEqual((yield* decideNow(engine, request({ callerNo: "13900139000" }))).source, "provider")
      assert.strictEqual((yield* decideNow(engine, request({ subsId: "1000000123456780" }))).source, "provider")
      assert.strictEqual(statusCalls(), 3)
    }))

  for (const s of [2, 3, 4] as const) {
    it.effect(`status ${s} is never reused`, () =>
      Effect.gen(function*() {
        const answer = ok(status(s, s === 2 ? "17000000077" : undefined))
        const { engine, statusCalls } = yield* setup(2000, [answer, answer])
        // The real callee and the binding (A and its AXN mode) are known, so 3 and 4 need no further lookup.
        const known = request({ realCallee: "13900139000", binding: { phoneNoA: "13800138000", mode: "AXN" } })
        const first = yield* decideNow(engine, known)
        const second = yield* decideNow(engine, known)
        assert.deepStrictEqual([first.status, second.status, second.source], [s, s, "provider"])
        assert.strictEqual(statusCalls(), 2)
      }))
  }

  it.effect("errors are never cached", () =>
    Effect.gen(function*() {
      const { engine, statusCalls } = yield* setup(2000, [fail(failWith("transient")), fail(failWith("throttled"))])
      const first = yield* decideNow(engine, request())
      const second = yield* decideNow(engine, request())
      assert.deepStrictEqual([first.source, second.source], ["degraded", "degraded"])
      assert.strictEqual(statusCalls(), 2)
    }))

  it.effect("statusTtlMs 0 disables the cache", () =>
    Effect.gen(function*() {
      const { engine, statusCalls } = yield* setup(0, [ok(status(1, X)), ok(status(1, X))])
      yield* decideNow(engine, request())
      assert.strictEqual((yield* decideNow(engine, request())).source, "provider")
      assert.strictEqual(statusCalls(), 2)
    }))
})

describe("status cache against X health", () => {
  it.effect("a kept status 1 does not outvote number-class failures on X: the new binding is the provider's decision, not the cache's", () =>
    Effect.gen(function*() {
      const settings = settingsSync({ statusTtlMs: 60_000, maxAttempts: 1 })
      const { log, provider } = makeFakeProvider(script({ status: [ok(status(1, X))], bind: [ok(newBinding)] }))
      const store = makeEvidenceStore({ xFailureThreshold: 3, xFailureWindowS: 600 }, noRedis)
      const engine = yield* Effect.service(Engine).pipe(Effect.provide(
        engineLayer(settings).pipe(
          Layer.provide(Layer.mergeAll(Layer.succeed(PrivacyNumberProvider, provider), cacheLayer(settings), Layer.succeed(EvidenceStore, store))),
          Layer.provide(Layer.succeed(SharedRedis, noRedis))
        )
      ))
      const known = request({ binding: { phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" } })
      assert.deepInclude(yield* decideNow(engine, known), { decision: "use-x", source: "provider" })
      assert.deepInclude(yield* decideNow(engine, known), { decision: "use-x", source: "cache" })
      for (let i = 0; i < 3; i++) yield* store.recordOutcome({ provider: "fake", phoneNoX: X, outcomeClass: "number", code: `q850:${i}`, callId: `call-${i}` })
      const moved = yield* decideNow(engine, known)
      assert.deepInclude(moved, { decision: "rebind", source: "provider", dial: newBinding.phoneNoX })
      assert.notInclude(moved.reason, "status cache")
      assert.strictEqual(log.filter((c) => c.action === "QueryCallStatus").length, 1)
    }))
})

describe("status cache and provider evidence", () => {
  it.effect("a status 1 the provider's own table marks as not reusable (pushed evidence) is read fresh every time", () =>
    Effect.gen(function*() {
      const settings = settingsSync({ statusTtlMs: 60_000, maxAttempts: 1 })
      let asked = 0
      const provider = {
        name: "pushes", endpoint: "fake://pushes",
        evidence: () => Effect.sync(() => {
          asked++
          return { verdict: { _tag: "UseX" as const, calledNo: X }, source: "X status push", requestId: undefined, reusable: false }
        }),
        bindingDetail: () => Effect.die("not asked"),
        bind: () => Effect.die("not asked")
      }
      const engine = yield* cachedEngine(settings, provider)
      const first = yield* decideNow(engine, request())
      const second = yield* decideNow(engine, request())
      assert.deepStrictEqual([first.source, second.source], ["provider", "provider"])
      assert.strictEqual(asked, 2)
    }))
})

describe("StatusCache and TtlMap", () => {
  const one = { status: 1, calledNo: X, extension: undefined, requestId: "r1" } as const

  it.effect("a status 1 is kept for the TTL from its offer; an answer other than 1 drops it", () =>
    Effect.gen(function*() {
      const cache = makeStatusCache(2000, noRedis)
      yield* cache.offer("k", one, 1000)
      assert.deepStrictEqual([yield* cache.get("k", 2999), yield* cache.get("k", 3000)], [one, undefined], "kept for the TTL from the offer's now")
      yield* cache.offer("k", one, 1000)
      yield* cache.offer("k", { status: 4, calledNo: undefined, extension: undefined, requestId: "r2" }, 1001)
      assert.isUndefined(yield* cache.get("k", 1002))
    }))

  it.effect("memory is bounded: the oldest write makes room", () =>
    Effect.gen(function*() {
      const cache = makeStatusCache(2000, noRedis, 2)
      for (const k of ["a", "b", "c"]) yield* cache.offer(k, one, 0)
      assert.deepStrictEqual([yield* cache.get("a", 0), yield* cache.get("b", 0), yield* cache.get("c", 0)], [undefined, one, one])
    }))

  it("TtlMap: expiry at expiresAt, rewrite moves an entry to the back", () => {
    const map = makeTtlMap<number>(2)
    map.set("a", 1, 100)
    map.set("b", 2, 100)
    map.set("a", 3, 200) // a is now the newest write
    map.set("c", 4, 200) // so b makes room
    assert.deepStrictEqual([map.get("a", 0), map.get("b", 0), map.get("c", 199), map.get("c", 200), map.size()], [3, undefined, 4, undefined, 1])
  })

  it("TtlMap: an evicted key is not kept alive by the queue of writes", () => {
    // the heap after forced GCs: 40 evicted keys of 100 KB still reachable would be 4 MB, the 10 live ones are 1 MB
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const heapAfterGc = () => {
      gc()
      gc()
      return process.memoryUsage().heapUsed
    }
    const before = heapAfterGc()
    const map = makeTtlMap<number>(10)
    for (let i = 0; i < 50; i++) map.set(Buffer.alloc(100_000, 97 + (i % 26)).toString("latin1") + i, i, Number.MAX_SAFE_INTEGER)
    const held = heapAfterGc() - before
    assert.strictEqual(map.size(), 10)
    assert.isBelow(held, 2_500_000, `${(held / 1e6).toFixed(1)} MB held for 10 live keys of 100 KB`)
  })

  it("TtlMap: any run of writes, reads and deletes answers as a map in write order evicting its oldest write", () => {
    type Op = { readonly op: "set"; readonly key: number; readonly at: number } | { readonly op: "get"; readonly key: number; readonly at: number } | { readonly op: "delete"; readonly key: number }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant("set" as const), key: fc.nat(12), at: fc.nat(50) }),
      fc.record({ op: fc.constant("get" as const), key: fc.nat(12), at: fc.nat(50) }),
      fc.record({ op: fc.constant("delete" as const), key: fc.nat(12) })
    )
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 400 }), (capacity, ops) => {
      const map = makeTtlMap<number>(capacity)
      // the model: a list of [key, value, expiresAt], oldest write first
      let model: Array<readonly [string, number, number]> = []
      ops.forEach((o, i) => {
        const key = `k${o.key}`
        if (o.op === "set") {
          map.set(key, i, o.at + 10)
          model = [...model.filter(([k]) => k !== key), [key, i, o.at + 10] as const].slice(-capacity)
        } else if (o.op === "delete") {
          map.delete(key)
          model = model.filter(([k]) => k !== key)
        } else {
          const entry = model.find(([k]) => k === key)
          const expected = entry !== undefined && entry[2] > o.at ? entry[1] : undefined
          if (entry !== undefined && expected === undefined) model = model.filter(([k]) => k !== key)
          assert.strictEqual(map.get(key, o.at), expected)
        }
        assert.strictEqual(map.size(), model.length)
      })
    }))
  })
})

describe("shared-state keys", () => {
  it("are keyed hashes: the same inputs give the same key only under the same secret, and no number appears", () => {
    const a = sharingKeys("secret-a")
    const b = sharingKeys("secret-b")
    const key = a.statusKey("FC100000000001", "1000000000000001", "13800138000", "aliyun")
    assert.strictEqual(key, a.statusKey("FC100000000001", "1000000000000001", "13800138000", "aliyun"))
    assert.notStrictEqual(key, b.statusKey("FC100000000001", "1000000000000001", "13800138000", "aliyun"))
    assert.notStrictEqual(key, a.statusKey("FC100000000001", "1000000000000001", "13900139000", "aliyun"))
    assert.notInclude(key, "13800138000")
  })

  it("derive from PRECALL_REDIS_KEY_SECRET, else the Aliyun secret, never the secret itself, else a random per-process one", () =>
    Effect.runPromise(Effect.gen(function*() {
      const own = sharingKeySecret(yield* settingsFromObject({ redisKeySecret: "k", aliyunAccessKeyId: "id", aliyunAccessKeySecret: "s" }))
      assert.deepStrictEqual(own, deriveKey("k", "precall/redis-keys"))
      const account = sharingKeySecret(yield* settingsFromObject({ aliyunAccessKeyId: "id", aliyunAccessKeySecret: "s" }))
      assert.deepStrictEqual(account, deriveKey("s", "precall/redis-keys"))
      assert.notDeepEqual(account, Buffer.from("s"))
      const none = sharingKeySecret(yield* settingsFromObject({}))
      assert.strictEqual(none.length, 32)
      assert.notDeepEqual(none, deriveKey("", "precall/redis-keys"))
    })))
})
