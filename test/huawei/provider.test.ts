/**
 * The Huawei provider's evidence gathering, binds and unbinds against a loopback fake that verifies
 * signatures, with an in-memory evidence store: which facts lead to which verdict, and which of them
 * cost an API call. Time is the TestClock's.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { EvidenceStore, type EvidenceStoreShape, makeEvidenceStore } from "../../src/evidence/EvidenceStore.ts"
import { noRedis } from "../../src/redis/SharedRedis.ts"
import { AX_PATH, AXB_PATH } from "../../src/providers/huawei/client.ts"
import { ACCOUNT_RECHECK_MS, makeHuaweiProvider } from "../../src/providers/huawei/provider.ts"
import { type Answer, axApp, axbApp, fakeHuawei, ok, type Received, refused } from "./fakeHuawei.ts"

const X = "17000000001"
const query = { poolKey: "huawei", subsId: "sub-1", phoneNoX: X, callerNo: "13800138000" }
const found = ok({ relationNumList: [{ subscriptionId: "sub-1", relationNum: `+86${X}`, callerNum: "+8613800138000", calleeNum: "+8613900139000", duration: 0 }] })

const setup = <A, E>(
  answer: (r: Received) => Answer,
  body: (p: Effect.Success<ReturnType<typeof makeHuaweiProvider>>, store: EvidenceStoreShape, received: Array<Received>) => Effect.Effect<A, E>,
  options: { readonly ax?: boolean; readonly areaCode?: string } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* fakeHuawei([axbApp, axApp], answer)
    const store = makeEvidenceStore({ xFailureThreshold: 3, xFailureWindowS: 600 }, noRedis)
    const provider = yield* makeHuaweiProvider({
      endpoint: fake.url, axb: axbApp, ax: options.ax === false ? undefined : axApp, areaCode: options.areaCode
    }).pipe(Effect.provideService(EvidenceStore, store))
    return yield* body(provider, store, fake.received)
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

const remember = (store: EvidenceStoreShape, durationS: number, mode = "AXB") =>
  store.rememberBinding({ provider: "huawei", subsId: "sub-1", phoneNoX: X, mode, durationS })

describe("Huawei evidence gathering", () => {
  it.effect("nothing cached: one AXB query; in effect → use X", () =>
    setup(() => found, (p, _store, received) =>
      Effect.gen(function*() {
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "UseX")
        assert.include(e.source, "binding query: in effect")
        assert.deepStrictEqual(received.map((r) => [r.method, r.path]), [["GET", AXB_PATH]])
      })))

  it.effect("a never-expiring binding found by the query is cached: the next decision asks nothing", () =>
    setup(() => found, (p, store, received) =>
      Effect.gen(function*() {
        yield* p.evidence(query)
        assert.strictEqual((yield* store.binding("huawei", "sub-1"))?.expiresAt, null)
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "UseX")
        assert.strictEqual(received.length, 1)
      })))

  it.effect("a timed binding found by the query is not cached (subscribeTime's timezone is unconfirmed)", () =>
    setup(() => ok({ relationNumList: [{ subscriptionId: "sub-1", relationNum: `+86${X}`, duration: 600 }] }), (p, store, received) =>
      Effect.gen(function*() {
        yield* p.evidence(query)
        assert.isUndefined(yield* store.binding("huawei", "sub-1"))
        yield* p.evidence(query)
        assert.strictEqual(received.length, 2)
      })))

  it.effect("cached and unexpired: no API call at all", () =>
    setup(() => found, (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 3600)
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "UseX")
        assert.include(e.source, "binding cache: in effect until")
        assert.strictEqual(received.length, 0)
      })))

  it.effect("near expiry: asked once, on AXB as cached, and a gone binding is expired", () =>
    setup(() => refused("1012007", "record does not exist"), (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 120)
        yield* TestClock.adjust("90 seconds") // 30 s left: within the near-expiry margin
        const near = yield* p.evidence(query)
        assert.strictEqual(near.verdict._tag, "Expired")
        assert.include(near.source, "1012007")
        assert.deepStrictEqual(received.map((r) => r.path), [AXB_PATH])
      })))

  it.effect("near expiry an AX binding is asked on AX only; past expiry nothing is asked", () =>
    setup(() => refused("1012007", "record does not exist"), (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 120, "AX")
        yield* TestClock.adjust("90 seconds")
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "Expired")
        assert.deepStrictEqual(received.map((r) => r.path), [AX_PATH])
        yield* TestClock.adjust("60 seconds") // past expiry: no call
        const after = yield* p.evidence(query)
        assert.strictEqual(after.verdict._tag, "Expired")
        assert.include(after.source, "binding cache: expired")
        assert.strictEqual(received.length, 1)
      })))

  it.effect("not cached and unknown to AXB: AX is asked too (when configured); gone on both → expired", () =>
    setup(() => refused("1012007", "record does not exist"), (p, _store, received) =>
      Effect.gen(function*() {
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "Expired")
        assert.deepStrictEqual(received.map((r) => r.path), [AXB_PATH, AX_PATH])
      })))

  it.effect("without an AX app only AXB is asked", () =>
    setup(() => refused("1016001"), (p, _store, received) =>
      Effect.gen(function*() {
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "Expired")
        assert.deepStrictEqual(received.map((r) => r.path), [AXB_PATH])
      }), { ax: false }))

  it.effect("X status pushes: 10 → X broken; 9 with cause 5 → broken but temporary; cause 6 → usable", () =>
    setup(() => found, (p, store) =>
      Effect.gen(function*() {
        yield* remember(store, 3600)
        yield* store.recordXStatus("huawei", `+86${X}`, { availability: "unavailable", status: "10", cause: "2" })
        const broken = yield* p.evidence(query)
        assert.deepStrictEqual(broken.verdict, { _tag: "XBroken", temporary: false })
        yield* store.recordXStatus("huawei", X, { availability: "unavailable", status: "9", cause: "5" })
        assert.deepStrictEqual((yield* p.evidence(query)).verdict, { _tag: "XBroken", temporary: true })
        yield* store.recordXStatus("huawei", X, { availability: "available", status: "9", cause: "6" })
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "UseX")
      })))

  it.effect("last call 8014 → expired; 8055 → X broken; 7108 → nothing dialable, without asking", () =>
    setup(() => found, (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 3600)
        const call = (code: string) => store.recordOutcome({ provider: "huawei", phoneNoX: X, subsId: "sub-1", outcomeClass: "other", code })
        yield* call("stateCode:8014")
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "Expired")
        yield* TestClock.adjust("1 second")
        yield* call("stateCode:8055")
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "XBroken")
        yield* TestClock.adjust("1 second")
        yield* call("stateCode:7108")
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "NothingDialable")
        assert.include(e.source, "7108")
        assert.strictEqual(received.length, 0)
      })))

  it.effect("rule 5: last call refused for its direction → callDirection 0 once per such call, then use X", () =>
    setup(() => ok(), (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 3600)
        const refusedCall = store.recordOutcome({ provider: "huawei", phoneNoX: X, subsId: "sub-1", outcomeClass: "other", code: "stateCode:8016" })
        yield* refusedCall
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "UseX")
        assert.include(e.source, "callDirection set to 0")
        assert.deepStrictEqual(received.map((r) => [r.method, r.body]), [["PUT", { subscriptionId: "sub-1", callDirection: 0 }]])
        // the same refused call does not cost another PUT
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "UseX")
        assert.strictEqual(received.length, 1)
        // a later refused call does
        yield* TestClock.adjust("1 minute")
        yield* refusedCall
        yield* p.evidence(query)
        assert.strictEqual(received.length, 2)
      })))

  it.effect("rule 5: a failed PUT still dials X; an AX binding has no direction to open", () =>
    setup(() => refused("1010001", "internal error", 500), (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 3600)
        yield* store.recordOutcome({ provider: "huawei", phoneNoX: X, subsId: "sub-1", outcomeClass: "other", code: "stateCode:8016" })
        const e = yield* p.evidence(query)
        assert.strictEqual(e.verdict._tag, "UseX")
        assert.include(e.source, "setting callDirection 0 failed")
        yield* store.rememberBinding({ provider: "huawei", subsId: "ax-1", phoneNoX: X, mode: "AX", durationS: 0 })
        yield* store.recordOutcome({ provider: "huawei", phoneNoX: X, subsId: "ax-1", outcomeClass: "other", code: "stateCode:8016" })
        assert.strictEqual((yield* p.evidence({ ...query, subsId: "ax-1" })).verdict._tag, "UseX")
        assert.strictEqual(received.length, 1)
      })))

  it.effect("an account refusal is remembered: nothing dialable without asking, asked again after the recheck interval, cleared by a success", () => {
    let frozen = true
    return setup(() => (frozen ? refused("1010029", "subscriber frozen") : found), (p, store, received) =>
      Effect.gen(function*() {
        const first = yield* p.evidence(query)
        assert.strictEqual(first.verdict._tag, "NothingDialable")
        assert.include(first.source, "1010029")
        assert.strictEqual(received.length, 1)
        yield* remember(store, 3600)
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "NothingDialable")
        assert.strictEqual(received.length, 1)
        frozen = false
        yield* TestClock.adjust(ACCOUNT_RECHECK_MS + 1)
        const later = yield* p.evidence(query)
        assert.strictEqual(later.verdict._tag, "UseX")
        assert.strictEqual(received.length, 2)
        // cleared: the cached binding decides again without a call
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "UseX")
        assert.strictEqual(received.length, 2)
      }))
  })

  it.effect("a call torn down with 7108 blocks for the recheck interval, then one query probes; a success outdates it", () =>
    setup(() => found, (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 3600)
        yield* store.recordOutcome({ provider: "huawei", phoneNoX: X, subsId: "sub-1", outcomeClass: "other", code: "stateCode:7108" })
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "NothingDialable")
        assert.strictEqual(received.length, 0)
        yield* TestClock.adjust(ACCOUNT_RECHECK_MS)
        const probed = yield* p.evidence(query)
        assert.strictEqual(probed.verdict._tag, "UseX")
        assert.strictEqual(received.length, 1)
        // the 7108 is still the binding's last call, but the success came after it: no more probes
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "UseX")
        assert.strictEqual(received.length, 1)
      })))

  it.effect("other failures of the query are the engine's to retry: a typed error, not a verdict", () =>
    setup(() => refused("1010001", "internal error", 500), (p) =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(p.evidence(query))
        assert.deepStrictEqual([e.code, e.errorClass], ["1010001", "transient"])
      })))
})

describe("Huawei bind, detail, unbind", () => {
  it.effect("AXB bind: E.164 parties, duration from the expiry, by area with areaMatchMode 1 away from a broken X; cached with its expiry", () =>
    setup(() => ok({ relationNum: "+8617000000009", subscriptionId: "sub-2" }), (p, store, received) =>
      Effect.gen(function*() {
        const b = yield* p.bind({
          poolKey: "huawei", mode: "AXB", phoneNoA: "13800138000", phoneNoB: "01012345678", expiresAt: 300_000, avoidX: [X], temporary: true
        })
        assert.deepStrictEqual(b, { subsId: "sub-2", phoneNoX: "17000000009", extension: undefined, requestId: undefined })
        assert.deepStrictEqual(received[0]!.body, { callerNum: "+8613800138000", calleeNum: "+861012345678", areaCode: "0755", areaMatchMode: "1", duration: 300 })
        const cached = yield* store.binding("huawei", "sub-2")
        assert.deepStrictEqual([cached?.mode, cached?.phoneNoX, cached?.durationS, cached?.expiresAt], ["AXB", "17000000009", 300, 300_000])
        // the next decision on it reads the cache
        const e = yield* p.evidence({ ...query, subsId: "sub-2", phoneNoX: "17000000009" })
        assert.strictEqual(e.verdict._tag, "UseX")
        assert.strictEqual(received.length, 1)
      }), { areaCode: "0755" }))

  it.effect("AX (and Aliyun's AXN) bind on the AX API with the AX app; never expires; a temporary AX binding is refused", () =>
    setup(() => ok({ origNum: "+8613800138000", privateNum: "+8617000000008", subscriptionId: "ax-1" }), (p, store, received) =>
      Effect.gen(function*() {
        const b = yield* p.bind({ poolKey: "huawei", mode: "AXN", phoneNoA: "+8613800138000", phoneNoB: undefined, expiresAt: 60_000 })
        assert.strictEqual(b.phoneNoX, "17000000008")
        assert.deepStrictEqual([received[0]!.path, received[0]!.appKey], [AX_PATH, "demoAxAppKey0001"])
        assert.deepStrictEqual(received[0]!.body, { origNum: "+8613800138000", areaMatchMode: "1", privateNumType: "mobile-virtual", calleeNumDisplay: "0" })
        assert.strictEqual((yield* store.binding("huawei", "ax-1"))?.expiresAt, null)
        const t = yield* Effect.flip(p.bind({ poolKey: "huawei", mode: "AX", phoneNoA: "13800138000", phoneNoB: undefined, expiresAt: 60_000, temporary: true }))
        assert.deepStrictEqual([t.code, t.errorClass], ["Local.AxNeverExpires", "bad-input"])
        assert.strictEqual(received.length, 1)
      })))

  it.effect("a bad party or an unsupported mode is refused before any call, and the message names no number", () =>
    setup(() => ok(), (p, _store, received) =>
      Effect.gen(function*() {
        const bad = yield* Effect.flip(p.bind({ poolKey: "huawei", mode: "AXB", phoneNoA: "95588123", phoneNoB: "13900139000", expiresAt: 60_000 }))
        assert.deepStrictEqual([bad.code, bad.errorClass], ["Local.BadNumber", "bad-input"])
        assert.notInclude(bad.message, "95588123")
        const ext = yield* Effect.flip(p.bind({ poolKey: "huawei", mode: "AXN_EXTENSION", phoneNoA: "13800138000", phoneNoB: undefined, expiresAt: 60_000 }))
        assert.strictEqual(ext.code, "Local.UnsupportedMode")
        assert.strictEqual(received.length, 0)
      })))

  it.effect("pool and account codes on bind: pool class, and a frozen account is remembered", () =>
    setup((r) => (r.path === AX_PATH ? refused("1011003", "A holds 5 X") : refused("1010007", "in arrears")), (p) =>
      Effect.gen(function*() {
        const pool = yield* Effect.flip(p.bind({ poolKey: "huawei", mode: "AX", phoneNoA: "13800138000", phoneNoB: undefined, expiresAt: 0 }))
        assert.deepStrictEqual([pool.code, pool.errorClass], ["1011003", "pool"])
        const frozen = yield* Effect.flip(p.bind({ poolKey: "huawei", mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", expiresAt: 60_000 }))
        assert.deepStrictEqual([frozen.code, frozen.errorClass], ["1010007", "configuration"])
        assert.strictEqual((yield* p.evidence(query)).verdict._tag, "NothingDialable")
      })))

  it.effect("bindingDetail: parties in national form, the mode from the API that answered", () =>
    setup((r) => (r.path === AXB_PATH ? refused("1012007") : ok({ privateNumList: [{ subscriptionId: "sub-1", origNum: "+8613800138000", privateNum: `+86${X}` }] })), (p) =>
      Effect.gen(function*() {
        const d = yield* p.bindingDetail({ poolKey: "huawei", subsId: "sub-1", phoneNoX: X })
        assert.deepStrictEqual([d.mode, d.phoneNoA, d.phoneNoB, d.phoneNoX, d.active], ["AX", "13800138000", undefined, X, true])
      })))

  it.effect("bindingDetail of a binding neither API knows: a binding-class error keeping Huawei's code", () =>
    setup(() => refused("1012007"), (p) =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(p.bindingDetail({ poolKey: "huawei", subsId: "sub-1", phoneNoX: X }))
        assert.deepStrictEqual([e.code, e.errorClass], ["1012007", "binding"])
      })))

  it.effect("unbind: DELETE on the cached mode's API, the cache forgets; a binding already gone is not an error", () =>
    setup(() => refused("1012007"), (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 0, "AX")
        yield* p.unbind({ poolKey: "huawei", subsId: "sub-1", phoneNoX: X })
        assert.deepStrictEqual(received.map((r) => [r.method, r.path, r.query.get("subscriptionId")]), [["DELETE", AX_PATH, "sub-1"]])
        assert.isUndefined(yield* store.binding("huawei", "sub-1"))
      })))

  it.effect("modify with a new duration restarts the cached binding's clock", () =>
    setup(() => ok(), (p, store, received) =>
      Effect.gen(function*() {
        yield* remember(store, 120)
        yield* TestClock.adjust("100 seconds")
        yield* p.modify("sub-1", { callDirection: 0, durationS: 600 })
        assert.deepStrictEqual(received[0]!.body, { subscriptionId: "sub-1", callDirection: 0, duration: 600 })
        assert.strictEqual((yield* store.binding("huawei", "sub-1"))?.expiresAt, 100_000 + 600_000)
      })))
})
