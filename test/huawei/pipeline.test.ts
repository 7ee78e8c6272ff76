/**
 * Huawei wired in: PrecallLive over a loopback fake Huawei (demo app keys, signatures verified) and a
 * loopback fake CEC. Huawei alone is the default provider; beside Aliyun it is reachable by name; a
 * dead binding is rebound and the new one lands in the shared evidence store; an outcome reported by
 * serial number is looked up at CEC.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { decide, PrecallLive } from "../../src/precall.ts"
import { EvidenceStore } from "../../src/evidence/EvidenceStore.ts"
import { Outcomes } from "../../src/evidence/outcomes.ts"
import { Engine } from "../../src/engine/Engine.ts"
import { type SettingsInput, settingsFromObject } from "../../src/policy/settings.ts"
import { AXB_PATH } from "../../src/providers/huawei/client.ts"
import { DEMO_AX_APP_KEY, DEMO_AX_APP_SECRET } from "../../src/providers/huawei/credentials.ts"
import { QUERY_CALL_STATE_PATH } from "../../src/providers/huawei/cec.ts"
import { type Answer, axbApp, fakeHuawei, ok, type Received, refused } from "./fakeHuawei.ts"

const axDemo = { appKey: DEMO_AX_APP_KEY, appSecret: Redacted.make(DEMO_AX_APP_SECRET), auth: "aksk" as const }

const runtimeOf = (input: SettingsInput) =>
  Effect.gen(function*() {
    const settings = yield* settingsFromObject({ deadlineMs: 5000, attemptTimeoutMs: 2000, ...input })
    return yield* Effect.acquireRelease(
      Effect.sync(() => ManagedRuntime.make(PrecallLive(settings).pipe(Layer.orDie))),
      (rt) => Effect.promise(() => rt.dispose())
    )
  })

/** A fake CEC that hands out a token and answers every queryCallState with an ended call (reasonCode 22). */
const fakeCec = Effect.acquireRelease(
  Effect.callback<ReturnType<typeof createServer>>((resume) => {
    const server = createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        const body = req.url === QUERY_CALL_STATE_PATH
          ? { retCode: "0", result: { state: 3, reasonCode: 22 } }
          : { AccessToken: "tok", CreateTime: String(Math.floor(Date.now() / 1000)), Expires: "600" }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body))
      })
    })
    server.listen(0, "127.0.0.1", () => {
      resume(Effect.succeed(server))
    })
  }),
  (server) =>
    Effect.callback<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))

/** Dead on both APIs, bind answers a new X. */
const rebindAnswers = (r: Received): Answer =>
  r.method === "POST" ? ok({ relationNum: "+8617000000077", subscriptionId: "sub-new" }) : refused("1012007", "record does not exist")

describe("Huawei in PrecallLive", () => {
  it.live("Huawei alone is the default provider; an expired binding is rebound with E.164 parties and remembered", () =>
    Effect.gen(function*() {
      const fake = yield* fakeHuawei([axbApp, axDemo], rebindAnswers)
      const rt = yield* runtimeOf({ huaweiEndpoint: fake.url })
      assert.deepStrictEqual((yield* Effect.promise(() => rt.runPromise(Effect.service(Engine)))).providers, ["huawei"])
      const d = yield* Effect.promise(() =>
        rt.runPromise(decide({
          poolKey: "huawei", subsId: "sub-old", phoneNoX: "17000000001", callerNo: "13800138000",
          binding: { phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" }
        })))
      assert.strictEqual(d.decision, "rebind")
      assert.strictEqual(d.provider, "huawei")
      assert.strictEqual(d.dial, "17000000077")
      assert.strictEqual(d.subsId, "sub-new")
      const bind = fake.received.find((r) => r.method === "POST")!
      assert.strictEqual(bind.path, AXB_PATH)
      assert.deepStrictEqual([(bind.body as Record<string, unknown>)["callerNum"], (bind.body as Record<string, unknown>)["calleeNum"]], ["+8613800138000", "+8613900139000"])
      // the provider wrote to the same store the engine and the push route read
      const cached = yield* Effect.promise(() => rt.runPromise(Effect.flatMap(Effect.service(EvidenceStore), (s) => s.binding("huawei", "sub-new"))))
      assert.strictEqual(cached?.phoneNoX, "17000000077")
    }).pipe(Effect.scoped))

  it.live("beside Aliyun, Huawei is reached by name", () =>
    Effect.gen(function*() {
      const fake = yield* fakeHuawei([axbApp, axDemo], () => ok({ relationNumList: [{ subscriptionId: "s1", relationNum: "+8617000000001", duration: 0 }] }))
      const rt = yield* runtimeOf({ huaweiEndpoint: fake.url, aliyunEndpoint: "http://127.0.0.1:9" })
      assert.deepStrictEqual((yield* Effect.promise(() => rt.runPromise(Effect.service(Engine)))).providers, ["aliyun", "huawei"])
      const d = yield* Effect.promise(() => rt.runPromise(decide({ provider: "huawei", poolKey: "huawei", subsId: "s1", phoneNoX: "+8617000000001" })))
      assert.deepStrictEqual([d.decision, d.provider, d.dial], ["use-x", "huawei", "17000000001"])
    }).pipe(Effect.scoped))

  it.live("no provider configured at all is a settings error naming both", () =>
    Effect.gen(function*() {
      const settings = yield* settingsFromObject({})
      const exit = yield* Effect.exit(Layer.build(PrecallLive(settings)).pipe(Effect.scoped))
      assert.strictEqual(exit._tag, "Failure")
      assert.match(String(exit), /PRECALL_HUAWEI_APP_KEY/)
    }))

  it.live("an outcome reported by serial number is looked up at CEC and recorded", () =>
    Effect.gen(function*() {
      const fake = yield* fakeHuawei([axbApp, axDemo], () => ok())
      const cec = yield* fakeCec
      const rt = yield* runtimeOf({ huaweiEndpoint: fake.url, huaweiCecEndpoint: cec })
      const receipt = yield* Effect.promise(() =>
        rt.runPromise(Effect.flatMap(Effect.service(Outcomes), (o) => o.report({ provider: "huawei", subsId: "s1", phoneNoX: "17000000001", callSerialNo: "cs-1" }))))
      assert.isTrue(receipt.pending)
      const lastCall = Effect.flatMap(Effect.service(EvidenceStore), (s) => s.lastCall("huawei", "s1"))
      let seen = yield* Effect.promise(() => rt.runPromise(lastCall))
      for (let i = 0; i < 100 && seen === undefined; i++) {
        yield* Effect.sleep("20 millis")
        seen = yield* Effect.promise(() => rt.runPromise(lastCall))
      }
      assert.deepStrictEqual([seen?.code, seen?.outcomeClass], ["reasonCode:22", "callee"])
    }).pipe(Effect.scoped))

  it.live("X paused by the carrier (status 9, cause 5): a short second binding away from X is the temporary X; the original stays", () =>
    Effect.gen(function*() {
      const fake = yield* fakeHuawei([axbApp, axDemo], (r) => (r.method === "POST" ? ok({ relationNum: "+8617000000088", subscriptionId: "sub-tmp" }) : ok()))
      const rt = yield* runtimeOf({ huaweiEndpoint: fake.url, huaweiAreaCode: "0755", temporaryBindingS: 300 })
      const store = Effect.service(EvidenceStore)
      yield* Effect.promise(() => rt.runPromise(Effect.flatMap(store, (s) =>
        Effect.andThen(
          s.rememberBinding({ provider: "huawei", subsId: "sub-1", phoneNoX: "17000000001", mode: "AXB", durationS: 3600 }),
          s.recordXStatus("huawei", "+8617000000001", { availability: "unavailable", status: "9", cause: "5" })
        ))))
      const d = yield* Effect.promise(() =>
        rt.runPromise(decide({
          provider: "huawei", poolKey: "huawei", subsId: "sub-1", phoneNoX: "17000000001", callerNo: "13800138000",
          binding: { phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" }
        })))
      assert.deepStrictEqual([d.decision, d.dial, d.subsId], ["use-temporary-x", "17000000088", "sub-tmp"])
      assert.deepStrictEqual(fake.received.map((r) => r.method), ["POST"]) // no query (cached), no unbind of the original
      const body = fake.received[0]!.body as Record<string, unknown>
      assert.deepStrictEqual([body["areaCode"], body["areaMatchMode"], body["relationNum"]], ["0755", "1", undefined])
      assert.approximately(body["duration"] as number, 300, 1)
    }).pipe(Effect.scoped))

  it.live("X unavailable (status 10): a new binding on another X, and the old one is unbound", () =>
    Effect.gen(function*() {
      const fake = yield* fakeHuawei([axbApp, axDemo], (r) => (r.method === "POST" ? ok({ relationNum: "+8617000000099", subscriptionId: "sub-new" }) : ok()))
      const rt = yield* runtimeOf({ huaweiEndpoint: fake.url })
      yield* Effect.promise(() => rt.runPromise(Effect.flatMap(Effect.service(EvidenceStore), (s) =>
        Effect.andThen(
          s.rememberBinding({ provider: "huawei", subsId: "sub-1", phoneNoX: "17000000001", mode: "AXB", durationS: 3600 }),
          s.recordXStatus("huawei", "17000000001", { availability: "unavailable", status: "10", cause: "2" })
        ))))
      const d = yield* Effect.promise(() =>
        rt.runPromise(decide({
          provider: "huawei", poolKey: "huawei", subsId: "sub-1", phoneNoX: "17000000001", callerNo: "13800138000",
          binding: { phoneNoA: "13800138000", phoneNoB: "13900139000", mode: "AXB" }
        })))
      assert.deepStrictEqual([d.decision, d.dial, d.subsId], ["rebind", "17000000099", "sub-new"])
      assert.deepStrictEqual(fake.received.map((r) => [r.method, r.query.get("subscriptionId")]), [["POST", null], ["DELETE", "sub-1"]])
      const forgotten = yield* Effect.promise(() => rt.runPromise(Effect.flatMap(Effect.service(EvidenceStore), (s) => s.binding("huawei", "sub-1"))))
      assert.isUndefined(forgotten)
    }).pipe(Effect.scoped))
})
