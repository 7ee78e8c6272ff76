/**
 * Two HTTP service instances (`precall serve` as runService assembles it) behind no balancer, both
 * on one Redis: together they never send the provider more than the shared limit per second, counted
 * at the emulator, while each answers every request with a decision.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Context, Effect, Layer, Logger, ManagedRuntime, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Decision } from "../../src/domain/decision.ts"
import type { DecideRequestInput } from "../../src/domain/request.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { PrecallLive } from "../../src/precall.ts"
import { jsonLinesLogger } from "../../src/service/logging.ts"
import { RequestTracker } from "../../src/service/middleware.ts"
import { readinessLayer } from "../../src/service/readiness.ts"
import { serverLayer } from "../../src/service/server.ts"
import { bindings, deleteKeysUnder, fullSeconds, isLocalLimit, load, REDIS_URL, settingsSync, uniquePrefix } from "./support.ts"

const QUOTA = 10
const LIMIT = 9
const API_KEY = "scale-out-test-key"
const prefix = uniquePrefix()
let emulator: RunningAliyunEmulator
beforeAll(async () => {
  emulator = await startAliyunEmulator({ seed: 13 })
})
afterAll(async () => {
  await emulator.close()
  await deleteKeysUnder(REDIS_URL, prefix)
})

/** One service instance on a free loopback port, as runService builds it, with a key. */
const serviceInstance = async () => {
  const settings = settingsSync({
    aliyunEndpoint: emulator.url, redisUrl: REDIS_URL, redisPrefix: prefix, redisTimeoutMs: 100, redisKeySecret: "test-shared-secret-0123456789",
    rateLimits: { QueryCallStatus: LIMIT }, statusTtlMs: 0
  })
  const app = serverLayer({ port: 0, host: "127.0.0.1", apiKeys: [Redacted.make(API_KEY)], shutdownGraceMs: 1000, tracker: new RequestTracker() }).pipe(
    Layer.provide(readinessLayer(settings).pipe(Layer.provideMerge(PrecallLive(settings)))),
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.provide(Logger.layer([jsonLinesLogger(() => {})])),
    Layer.orDie
  )
  const runtime = ManagedRuntime.make(app)
  const server = await runtime.runPromise(Effect.map(Effect.context<HttpServer.HttpServer>(), (c) => Context.get(c, HttpServer.HttpServer)))
  const url = `${HttpServer.formatAddress(server.address)}/v1/decisions`
  const decide = async (request: DecideRequestInput): Promise<Decision> => {
    const res = await fetch(url, {
      method: "POST", body: JSON.stringify(request),
      headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` }
    })
    expect(res.status).toBe(200)
    return (await res.json()) as Decision
  }
  return { decide, close: () => runtime.dispose() }
}

describe("two service instances, one Redis", () => {
  it("share one limit: at most the account's quota per second reaches the provider, every request gets a decision", async () => {
    const [a, b] = await Promise.all([serviceInstance(), serviceInstance()])
    try {
      const refs = bindings(emulator, 20)
      emulator.setFault("QueryCallStatus", { throttle: { qps: QUOTA } })
      emulator.resetStats()
      const start = Date.now()
      const loads = [load(a.decide, refs, { perSecond: 15, tag: 3 }), load(b.decide, refs, { perSecond: 15, tag: 4 })]
      await new Promise((r) => setTimeout(r, 3200))
      const decisions = (await Promise.all(loads.map((l) => l.stop()))).flat()
      const seconds = fullSeconds(emulator, start, Date.now())
      emulator.clearFaults()

      expect(emulator.stats().actions["QueryCallStatus"]?.codes["Throttling.User"]).toBeUndefined()
      expect(seconds.length).toBeGreaterThanOrEqual(2)
      expect(Math.max(...seconds), `per second: ${seconds}`).toBeLessThanOrEqual(QUOTA)
      expect(decisions.length).toBeGreaterThan(80)
      const answered = decisions.filter((d) => d.source === "provider" && d.decision === "use-x")
      const limited = decisions.filter(isLocalLimit)
      expect(answered.length + limited.length).toBe(decisions.length)
      expect(limited.length).toBeGreaterThan(0)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  }, 20_000)
})
