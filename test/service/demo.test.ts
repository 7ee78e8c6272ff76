/** The `npm start` demo: the real Aliyun adapter against the in-process emulator, on the live clock. */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Logger, Redacted } from "effect"
import { settingsFromObject } from "../../src/policy/settings.ts"
import { PrecallLive } from "../../src/precall.ts"
import { makeNumberHasher } from "../../src/audit/record.ts"
import { curlLine, DEMO_EXPOSED_NUMBER, type DemoCase, demoSettings, startDemo } from "../../src/service/demo.ts"
import { jsonLinesLogger } from "../../src/service/logging.ts"
import { RequestTracker } from "../../src/service/middleware.ts"
import { readinessLayer } from "../../src/service/readiness.ts"
import { serverLayer } from "../../src/service/server.ts"
import { API_KEY, baseUrl, postDecision, send } from "./harness.ts"

const ADMIN_KEY = "demo-admin-key-0123456789abcdef"

class Cases extends Context.Service<Cases, ReadonlyArray<DemoCase>>()("test/DemoCases") {}

/** What runService assembles in demo mode, with a test key. */
const DemoService = Layer.unwrap(Effect.gen(function*() {
  const demo = yield* startDemo
  const settings = yield* demoSettings(yield* Effect.orDie(settingsFromObject({})), {}, demo.emulator.url)
  return serverLayer({
    port: 0, host: "127.0.0.1", apiKeys: [Redacted.make(API_KEY)], adminKeys: [Redacted.make(ADMIN_KEY)], shutdownGraceMs: 1000, tracker: new RequestTracker(),
    numberHasher: makeNumberHasher(settings.auditHashSecret!)
  }).pipe(
    Layer.provide(readinessLayer(settings).pipe(Layer.provideMerge(PrecallLive(settings)))),
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.merge(Layer.succeed(Cases, demo.cases))
  )
})).pipe(Layer.provide(Logger.layer([jsonLinesLogger(() => {})])))

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

  it.effect("readiness probes the emulator", () =>
    Effect.gen(function*() {
      const res = yield* send("/readyz")
      assert.strictEqual(res.status, 200)
      assert.strictEqual(res.json.checks.provider.ok, true)
      assert.deepStrictEqual(res.json.checks.sharedState, { store: "memory", redisConfigured: false, since: null, lastError: null })
      // the demo's decisions went to the emulator, so its breaker is known and closed
      assert.deepStrictEqual(res.json.checks.circuits.map((c: { state: string }) => c.state), ["closed"])
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
    }))
})
