/**
 * The service on a loopback port 0 over a fake provider, with captured log lines, and a fetch-based
 * client (raw bodies and headers, so malformed requests can be sent as they are).
 */
import { Effect, Layer, Logger, Redacted } from "effect"
import { HttpServer } from "effect/http"
import type { StatusAnswer } from "../../src/domain/status.ts"
import { auditedEngineLayer } from "../../src/audit/audited.ts"
import type { ExposureStore } from "../../src/audit/ExposureStore.ts"
import { memoryStoreLayer } from "../../src/audit/memoryStore.ts"
import { makeNumberHasher } from "../../src/audit/record.ts"
import { engineLayer } from "../../src/engine/Engine.ts"
import { evidenceInMemory } from "../../src/evidence/layer.ts"
import { settingsFromObject, type SettingsInput } from "../../src/policy/settings.ts"
import { PrivacyNumberProvider, type ProviderShape } from "../../src/providers/Provider.ts"
import { jsonLinesLogger } from "../../src/service/logging.ts"
import { RequestTracker } from "../../src/service/middleware.ts"
import { Readiness, type ReadinessReport } from "../../src/service/readiness.ts"
import { serverLayer, type ConnectionLimits } from "../../src/service/server.ts"

export const API_KEY = "test-key-0123456789abcdef"
export const OTHER_KEY = "second-key-fedcba9876543210"

export const validRequest = { poolKey: "FC100000000001", subsId: "1000000000000001", phoneNoX: "17000000000", callerNo: "13800138000" }

export const statusOne: StatusAnswer = { status: 1, calledNo: "17000000000", extension: undefined, requestId: "req-1" }

export const fakeProvider = (overrides: Partial<ProviderShape> = {}) =>
  Layer.succeed(PrivacyNumberProvider, PrivacyNumberProvider.of({
    name: "fake",
    endpoint: "http://127.0.0.1:1",
    queryCallStatus: () => Effect.succeed(statusOne),
    bindingDetail: () => Effect.die("bindingDetail is not scripted"),
    bind: () => Effect.die("bind is not scripted"),
    ...overrides
  }))

export const readyReport = (ready: boolean): ReadinessReport => ({
  ready,
  checks: {
    configuration: { ok: true, detail: "test" },
    provider: { ok: ready, detail: ready ? "reachable (HTTP 400)" : "unreachable", endpoint: "http://127.0.0.1:1", latencyMs: ready ? 1 : null, checkedAt: "2026-01-01T00:00:00.000Z" },
    circuits: [{ endpoint: "http://127.0.0.1:1", state: ready ? "closed" : "open" }],
    sharedState: { store: "memory", redisConfigured: false, since: null, lastError: null }
  }
})

export interface ServiceOptions {
  readonly apiKeys?: ReadonlyArray<string>
  readonly provider?: Partial<ProviderShape>
  readonly ready?: boolean
  readonly shutdownGraceMs?: number
  readonly settings?: SettingsInput
  readonly limits?: Partial<ConnectionLimits>
  /** PRECALL_ADMIN_KEYS (default none). */
  readonly adminKeys?: ReadonlyArray<string>
  /** The exposure store (default: a fresh in-memory one). */
  readonly exposures?: Layer.Layer<ExposureStore>
  /** Wrap the engine in the exposure audit, as PrecallWith does (default: the bare engine). */
  readonly audited?: boolean
  /** Serve POST /v1/decisions on node:http (default true); false leaves it to HttpApi (the parity test). */
  readonly fastDecisionRoute?: boolean
}

export const makeService = (options: ServiceOptions = {}) => {
  const logs: Array<Record<string, unknown>> = []
  const rawLogs: Array<string> = []
  const tracker = new RequestTracker()
  const settings = Effect.orDie(settingsFromObject(options.settings ?? {}))
  const bare = Layer.unwrap(Effect.map(settings, engineLayer))
  const engine = options.audited === true ? Layer.unwrap(Effect.map(settings, auditedEngineLayer)).pipe(Layer.provide(bare)) : bare
  const exposures = options.exposures ?? memoryStoreLayer()
  const hash = options.settings?.auditHashSecret
  const evidence = Layer.unwrap(Effect.map(settings, evidenceInMemory))
  const layer = serverLayer({
    port: 0,
    host: "127.0.0.1",
    apiKeys: (options.apiKeys ?? [API_KEY, OTHER_KEY]).map((k) => Redacted.make(k)),
    adminKeys: (options.adminKeys ?? []).map((k) => Redacted.make(k)),
    numberHasher: hash === undefined ? undefined : makeNumberHasher(hash),
    shutdownGraceMs: options.shutdownGraceMs ?? 5000,
    tracker,
    limits: options.limits,
    fastDecisionRoute: options.fastDecisionRoute
  }).pipe(
    Layer.provide(Layer.mergeAll(
      engine.pipe(Layer.provide(fakeProvider(options.provider)), Layer.provideMerge(exposures)),
      evidence,
      Layer.succeed(Readiness, Readiness.of({ check: Effect.succeed(readyReport(options.ready ?? true)) }))
    )),
    Layer.provide(Logger.layer([jsonLinesLogger((line) => {
      rawLogs.push(line)
      logs.push(JSON.parse(line))
    })]))
  )
  return { layer, logs, rawLogs, tracker }
}

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: any
}

export const baseUrl = HttpServer.addressFormattedWith(Effect.succeed)

/** One HTTP exchange with the server in context; never fails (a transport error is a defect). */
export const send = (path: string, init: RequestInit = {}): Effect.Effect<Reply, never, HttpServer.HttpServer> =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    const res = yield* Effect.promise(() => fetch(`${base}${path}`, init))
    const text = yield* Effect.promise(() => res.text())
    let json: unknown = undefined
    try {
      json = JSON.parse(text)
    } catch {
      // not JSON (e.g. /metrics)
    }
    return { status: res.status, headers: res.headers, text, json }
  })

export const postDecision = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }) =>
  send("/v1/decisions", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })
