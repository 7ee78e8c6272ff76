/** The `npm start` demo: the real Aliyun and Huawei adapters against the in-process emulators, on the live clock. */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Logger, Redacted } from "effect"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { PrecallLive } from "../../src/precall.ts"
import { makeNumberHasher } from "../../src/audit/record.ts"
import {
  controlCurlLine, curlLine, DEMO_EXPOSED_NUMBER, type DemoCase, demoSettings, type HuaweiDemo, seedHuaweiDemo, startDemo
} from "../../src/service/demo.ts"
import { huaweiPushOptions } from "../../src/service/pushes.ts"
import { jsonLinesLogger } from "../../src/service/logging.ts"
import { RequestTracker } from "../../src/service/middleware.ts"
import { readinessLayer } from "../../src/service/readiness.ts"
import { serverLayer } from "../../src/service/server.ts"
import { DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_AX_APP_KEY, DEMO_AX_APP_SECRET } from "../../src/providers/huawei/credentials.ts"
import { API_KEY, baseUrl, postDecision, send } from "./harness.ts"

const ADMIN_KEY = "demo-admin-key-0123456789abcdef"
const logged: Array<Record<string, unknown>> = []

class Cases extends Context.Service<Cases, ReadonlyArray<DemoCase>>()("test/DemoCases") {}
class Huawei extends Context.Service<Huawei, HuaweiDemo>()("test/HuaweiDemo") {}

/** What runService assembles in demo mode, with a test key; Huawei is seeded once the service listens, as there. */
const DemoService = Layer.unwrap(Effect.gen(function*() {
  const demo = yield* startDemo
  const settings = yield* demoSettings(yield* Effect.orDie(settingsFromObject({})), {}, demo)
  const service = serverLayer({
    port: 0, host: "127.0.0.1", apiKeys: [Redacted.make(API_KEY)], adminKeys: [Redacted.make(ADMIN_KEY)], shutdownGraceMs: 1000, tracker: new RequestTracker(),
    numberHasher: makeNumberHasher(settings.auditHashSecret!), huaweiPushes: huaweiPushOptions(settings)
  }).pipe(
    Layer.provide(readinessLayer(settings).pipe(Layer.provideMerge(PrecallLive(settings)))),
    Layer.provide(NodeHttpClient.layerUndici)
  )
  const huawei = Layer.effect(Huawei, Effect.flatMap(baseUrl, (url) => seedHuaweiDemo(demo.huawei, url)))
  return huawei.pipe(Layer.provideMerge(service), Layer.merge(Layer.succeed(Cases, demo.cases)))
})).pipe(Layer.provide(Logger.layer([jsonLinesLogger((line) => logged.push(JSON.parse(line)))])))

layer(DemoService, { excludeTestServices: true })("demo on the emulator", (it) => {
  it.effect("each seeded binding yields its decision", () =>
    Effect.gen(function*() {
      const decisions = []
      for (const c of yield* Cases) {
        const res = yield* postDecision(c.request)
        assert.strictEqual(res.status, 200, c.label)
        decisions.push([res.json.decision, res.json.source, res.json.status, res.json.providerCode, res.json.attempts])
      }
      assert.deepStrictEqual(decisions, [
        ["use-x", "provider", 1, null, 1],
        ["use-temporary-x", "provider", 2, null, 1],
        ["fallback-real", "provider", 3, null, 2],
        ["rebind", "provider", 4, null, 2],
        ["use-x", "degraded", null, "isp.SYSTEM_ERROR", 3],
        ["refuse", "provider", 3, null, 2]
      ])
      // the fallback-real is in the exposure audit, found by the number it exposed
      const found = yield* send(`/v1/exposures?number=${DEMO_EXPOSED_NUMBER}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      assert.strictEqual(found.status, 200)
      assert.deepStrictEqual(found.json.records.map((r: { realNumberMasked: string; subsId: string }) => [r.realNumberMasked, r.subsId]), [["****0003", (yield* Cases)[2]!.request.subsId]])
      assert.notInclude(found.text, DEMO_EXPOSED_NUMBER)
    }))

  it.effect("the refusal carries the demo's best WhatsApp sender; no other decision has an alternative", () =>
    Effect.gen(function*() {
      const alternatives = []
      for (const c of yield* Cases) alternatives.push((yield* postDecision(c.request)).json.alternative)
      assert.deepStrictEqual(alternatives.map((a) => a === undefined ? undefined : [a.channel, a.senderNumber, a.qualityRating]), [
        undefined, undefined, undefined, undefined, undefined, ["whatsapp", "8657100000001", "GREEN"]
      ])
      // the log line names the channel only
      const refusals = logged.filter((l) => l["msg"] === "decision" && l["decision"] === "refuse")
      assert.isNotEmpty(refusals)
      assert.isTrue(refusals.every((l) => l["alternative"] === "whatsapp" && !JSON.stringify(l).includes("8657100000001")))
    }))

  it.effect("each Huawei binding yields its decision: use-x, rebind after expiry, rebind off the X a push made unavailable", () =>
    Effect.gen(function*() {
      const { cases } = yield* Huawei
      const decisions = []
      const reasons: Array<string> = []
      for (const c of cases) {
        const res = yield* postDecision(c.request)
        assert.strictEqual(res.status, 200, c.label)
        assert.strictEqual(res.json.provider, "huawei", c.label)
        decisions.push([res.json.decision, res.json.source, res.json.dial === c.request.phoneNoX, res.json.previousSubsId === c.request.subsId])
        reasons.push(res.json.reason)
      }
      assert.deepStrictEqual(decisions, [
        ["use-x", "provider", true, false],
        // made again on its own X, which is healthy (§6 rule 2)
        ["rebind", "provider", true, true],
        ["rebind", "provider", false, true]
      ])
      // the expiry came from the binding query, the broken X from the push the emulator sent at start (which the service accepted)
      assert.isFalse(logged.some((l) => String(l["msg"]).startsWith("demo: the service did not accept")))
      assert.match(reasons[1]!, /binding query: 1012007/)
      assert.match(reasons[2]!, /X status push 10/)
    }))

  it.effect("the push step: use-x, then the emulator's numStatus push (via its control API, as the printed line does) makes the next decision a rebind onto another X", () =>
    Effect.gen(function*() {
      const step = (yield* Huawei).push!
      const before = yield* postDecision(step.request)
      assert.deepInclude(before.json, { decision: "use-x", dial: step.request.phoneNoX, provider: "huawei" })
      const put = yield* Effect.promise(() =>
        fetch(step.controlUrl, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(step.body) })
          .then((r) => r.json() as Promise<Record<string, unknown>>)
      )
      assert.deepInclude(put, { number: `+86${step.request.phoneNoX}`, status: "10" })
      assert.isNumber(put["pushId"])
      yield* Effect.promise(() => fetch(step.settleUrl, { method: "POST" }).then((r) => r.arrayBuffer()))
      const after = yield* postDecision(step.request)
      assert.deepInclude(after.json, { decision: "rebind", provider: "huawei", previousSubsId: step.request.subsId })
      assert.notStrictEqual(after.json.dial, step.request.phoneNoX)
      assert.match(after.json.reason, /X status push 10/)
    }))

  it.effect("readiness probes the emulator", () =>
    Effect.gen(function*() {
      const res = yield* send("/readyz")
      assert.strictEqual(res.status, 200)
      assert.strictEqual(res.json.checks.provider.ok, true)
      assert.match(res.json.checks.configuration.detail, /; huawei at http:\/\/127\.0\.0\.1:\d+ \(aksk\)/)
      assert.deepStrictEqual(res.json.checks.sharedState, { store: "memory", redisConfigured: false, since: null, lastError: null })
      assert.deepInclude(res.json.checks.chatapp, { ok: true, custSpaceId: "demo-space", senders: 4, usable: 2, lastError: null })
      // the demo allows real-number fallback, so its audit file is required, and answers
      assert.deepInclude(res.json.checks.exposureAudit, { ok: true, store: "file", required: true })
      assert.match(res.json.checks.exposureAudit.where, /precall-demo-.*exposures\.jsonl$/)
      // the demo's decisions went to both emulators, so their breakers are known and closed
      assert.deepStrictEqual(res.json.checks.circuits.map((c: { state: string }) => c.state), ["closed", "closed"])
    }))

  it.effect("the printed curl lines carry the URL and the request, and never a key: $PRECALL_API_KEY stands for one", () =>
    Effect.gen(function*() {
      const base = yield* baseUrl
      const cases = yield* Cases
      const line = curlLine(base, cases[0]!.request, true)
      assert.strictEqual(
        line,
        `curl -sS '${base}/v1/decisions' -H 'content-type: application/json' -H "authorization: Bearer $PRECALL_API_KEY" -d '${JSON.stringify(cases[0]!.request)}'`
      )
      assert.notInclude(line, API_KEY)
      assert.notInclude(curlLine(base, cases[0]!.request, false), "authorization")
      // the Huawei lines too: no API key, no Huawei app key or secret (the emulator's control API takes none)
      const huawei = yield* Huawei
      const lines = [...huawei.cases.map((c) => curlLine(base, c.request, true)), curlLine(base, huawei.push!.request, true), controlCurlLine(huawei.push!)]
      for (const l of lines) {
        for (const secret of [API_KEY, ADMIN_KEY, DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_AX_APP_KEY, DEMO_AX_APP_SECRET]) assert.notInclude(l, secret)
      }
      assert.match(controlCurlLine(huawei.push!), /^curl -sS -X PUT '[^']+\/_emulator\/numbers\/%2B86\d{11}\/status' -H 'content-type: application\/json' -d '\{"status":"10"\}' && curl /)
    }))
})
