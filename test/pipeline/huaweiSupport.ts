/**
 * Support for the Huawei pipeline tests: the HTTP service as runService assembles it (engine,
 * evidence store, push route), configured against the Huawei emulator over loopback, and a relay the
 * emulator pushes to (its callback URL must be known before the service's port is): the relay
 * forwards every push to the current service and can answer the emulator 500 for the next tries
 * (the service got the push, the emulator re-pushes it).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { createClient } from "redis"
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest"
import { Context, Effect, Layer, Logger, ManagedRuntime, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Decision, decide, type DecideRequestInput } from "../../src/index.ts"
import { type RunningHuaweiEmulator, startHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import { EvidenceStore, type EvidenceStoreShape } from "../../src/evidence/EvidenceStore.ts"
import { Outcomes } from "../../src/evidence/outcomes.ts"
import { settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import { PrecallLive } from "../../src/precall.ts"
import { jsonLinesLogger } from "../../src/service/logging.ts"
import { RequestTracker } from "../../src/service/middleware.ts"
import { huaweiPushOptions } from "../../src/service/pushes.ts"
import { readinessLayer } from "../../src/service/readiness.ts"
import { serverLayer } from "../../src/service/server.ts"

export const API_KEY = "huawei-pipeline-key"

export interface Relay {
  readonly url: string
  /** Where pushes go now: a service's push route. */
  target: string | undefined
  /** The next this many pushes are forwarded, then answered 500 to the emulator. */
  failNext: number
  /** The service's answer to every forwarded push, in order. */
  readonly forwarded: Array<number>
  readonly close: () => Promise<void>
}

export const startRelay = async (): Promise<Relay> => {
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      void (async () => {
        let status = 502
        if (relay.target !== undefined) {
          const headers: Record<string, string> = {}
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && !["host", "content-length", "connection"].includes(k)) headers[k] = v
          try {
            const answer = await fetch(relay.target, { method: "POST", headers, body: Buffer.concat(chunks) })
            await answer.arrayBuffer()
            status = answer.status
          } catch {
            status = 502
          }
          relay.forwarded.push(status)
        }
        if (relay.failNext > 0) {
          relay.failNext--
          status = 500
        }
        res.writeHead(status, { connection: "close" }).end()
      })()
    })
  })
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done))
  const relay: Relay = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/providers/huawei/events`,
    target: undefined,
    failNext: 0,
    forwarded: [],
    close: () => new Promise<void>((done) => server.close(() => done()))
  }
  return relay
}

/** Fallback-real decisions are audited: into a file of this run. */
export const auditSettings = () => {
  const dir = mkdtempSync(join(tmpdir(), "precall-huawei-pipeline-"))
  return {
    settings: { auditHashSecret: "pipeline-audit-secret-0123456789", auditFile: join(dir, "exposures.jsonl") },
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}

export interface Instance {
  readonly url: string
  readonly store: EvidenceStoreShape
  readonly decide: (req: DecideRequestInput) => Promise<Decision>
  readonly report: (report: unknown) => Promise<unknown>
  readonly dispose: () => Promise<void>
}

/** One service instance on a free loopback port with these settings (Huawei app from the endpoint's demo keys). */
export const serviceInstance = async (input: SettingsInput): Promise<Instance> => {
  const settings = Effect.runSync(settingsFromObject(input))
  const app = serverLayer({
    port: 0, host: "127.0.0.1", apiKeys: [Redacted.make(API_KEY)], shutdownGraceMs: 1000, tracker: new RequestTracker(),
    huaweiPushes: huaweiPushOptions(settings)
  }).pipe(
    Layer.provideMerge(readinessLayer(settings).pipe(Layer.provideMerge(PrecallLive(settings)))),
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.provide(Logger.layer([jsonLinesLogger(() => {})])),
    Layer.orDie
  )
  const runtime = ManagedRuntime.make(app)
  const context = await runtime.runPromise(Effect.context<HttpServer.HttpServer | EvidenceStore | Outcomes>())
  const outcomes = Context.get(context, Outcomes)
  return {
    url: HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address),
    store: Context.get(context, EvidenceStore),
    decide: (req) => runtime.runPromise(decide(req)),
    report: (report) => runtime.runPromise(outcomes.report(report)),
    dispose: () => runtime.dispose()
  }
}

/** The parties of the pipeline tests' bindings, national and E.164. */
export const A = "13800138000"
export const B = "13900139000"
export const e164 = (n: string) => `+86${n}`
export const national = (x: string) => x.replace(/^\+86/, "")

export interface HuaweiPipeline {
  readonly emu: RunningHuaweiEmulator
  readonly relay: Relay
  readonly audit: ReturnType<typeof auditSettings>
  /** The service instances a test started: disposed after it. */
  readonly instances: Array<Instance>
}

/**
 * The Huawei emulator pushing through a relay, started once for the test file and reset before each
 * test; `cleanUp` runs after the file (e.g. removing its Redis keys).
 */
export const useHuaweiPipeline = (cleanUp: () => Promise<void> = async () => {}): HuaweiPipeline => {
  const pipeline = { audit: auditSettings(), instances: [] as Array<Instance> } as { emu: RunningHuaweiEmulator; relay: Relay } & HuaweiPipeline
  beforeAll(async () => {
    pipeline.relay = await startRelay()
    pipeline.emu = await startHuaweiEmulator({ callbackUrl: pipeline.relay.url })
  })
  afterAll(async () => {
    await pipeline.emu.close()
    await pipeline.relay.close()
    pipeline.audit.remove()
    await cleanUp()
  })
  beforeEach(() => {
    pipeline.emu.reset()
    pipeline.relay.failNext = 0
    pipeline.relay.forwarded.length = 0
  })
  afterEach(async () => {
    await Promise.all(pipeline.instances.splice(0).map((i) => i.dispose()))
  })
  return pipeline
}

/** Removes every key under `prefix` from the machine's Redis (a test's own keys, after it). */
export const removeRedisKeys = async (prefix: string, url = "redis://127.0.0.1:6379"): Promise<void> => {
  const client = createClient({ url })
  await client.connect()
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await client.del(keys)
  client.destroy()
}
