/**
 * `/readyz`: ready when the configuration is valid and the provider endpoint answers. The provider
 * probe is one cheap HTTP request with a short timeout; any HTTP answer (even a 4xx) proves the
 * endpoint is reachable. Its result is cached briefly so frequent probes do not load the provider.
 *
 * The report also shows each endpoint's circuit breaker and the shared Redis. Neither makes the
 * instance unready: with an open breaker it still answers at once (degraded), and without Redis it
 * runs on in-memory state; taking instances out of rotation would help neither.
 */
import { Clock, Context, Duration, Effect, Layer, Schema } from "effect"
import { HttpClient } from "effect/http"
import { ProviderBreakers } from "../breaker/ProviderBreakers.ts"
import type { Settings } from "../policy/settings.ts"
import { type RedisHealth, SharedRedis } from "../redis/SharedRedis.ts"

const PROBE_TIMEOUT_MS = 1000
const PROBE_CACHE_MS = 2000

const ConfigurationCheck = Schema.Struct({ ok: Schema.Boolean, detail: Schema.String })

export const ProviderCheck = Schema.Struct({
  ok: Schema.Boolean,
  detail: Schema.String,
  endpoint: Schema.String,
  /** Duration of the probe; null when it timed out. */
  latencyMs: Schema.NullOr(Schema.Number),
  checkedAt: Schema.String
})
export type ProviderCheck = typeof ProviderCheck.Type

const CircuitCheck = Schema.Struct({
  endpoint: Schema.String,
  state: Schema.Literals(["closed", "half-open", "open"]),
  /** Time until a half-open probe, while open. */
  retryAfterMs: Schema.optionalKey(Schema.Number)
})

const SharedStateCheck = Schema.Struct({
  /** `redis` when PRECALL_REDIS_URL is set and Redis answers; `memory` otherwise. */
  store: Schema.Literals(["redis", "memory"]),
  redisConfigured: Schema.Boolean,
  /** Since when the store is what it is (ISO time); null without Redis. */
  since: Schema.NullOr(Schema.String),
  lastError: Schema.NullOr(Schema.String)
})

export const ReadinessReport = Schema.Struct({
  ready: Schema.Boolean,
  checks: Schema.Struct({
    configuration: ConfigurationCheck,
    provider: ProviderCheck,
    circuits: Schema.Array(CircuitCheck),
    sharedState: SharedStateCheck
  })
})
export type ReadinessReport = typeof ReadinessReport.Type

export class Readiness extends Context.Service<Readiness, { readonly check: Effect.Effect<ReadinessReport> }>()("precall/service/Readiness") {}

/** One GET to the endpoint; reachable on any HTTP answer, not on a connection error or timeout. */
export const probeEndpoint = (client: HttpClient.HttpClient, endpoint: string): Effect.Effect<ProviderCheck> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const answer = yield* client.get(endpoint).pipe(
      Effect.map((res) => ({ ok: true, detail: `reachable (HTTP ${res.status})` })),
      Effect.catch((e) => Effect.succeed({ ok: false, detail: `unreachable: ${e.message}` })),
      Effect.timeoutOption(Duration.millis(PROBE_TIMEOUT_MS)),
      Effect.scoped
    )
    const ended = yield* Clock.currentTimeMillis
    return answer._tag === "Some"
      ? { ...answer.value, endpoint, latencyMs: ended - started, checkedAt: new Date(ended).toISOString() }
      : { ok: false, detail: `no answer within ${PROBE_TIMEOUT_MS} ms`, endpoint, latencyMs: null, checkedAt: new Date(ended).toISOString() }
  })

const describe = (s: Settings) =>
  `aliyun at ${s.aliyunEndpoint} (signature ${s.aliyunSignature}); deadline ${s.deadlineMs} ms, ` +
  `${s.maxAttempts} attempts of ${s.attemptTimeoutMs} ms, degraded decision ${s.degradedDecision}`

const sharedStateOf = (h: RedisHealth) => ({
  store: h.configured && h.up ? "redis" as const : "memory" as const,
  redisConfigured: h.configured,
  since: h.configured ? new Date(h.since).toISOString() : null,
  lastError: h.lastError ?? null
})

/** Readiness over the settings the engine runs with (valid by construction: they were decoded at start). */
export const readinessLayer = (
  settings: Settings
): Layer.Layer<Readiness, never, HttpClient.HttpClient | ProviderBreakers | SharedRedis> =>
  Layer.effect(Readiness, Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const breakers = yield* ProviderBreakers
    const shared = yield* SharedRedis
    const probe = yield* Effect.cachedWithTTL(probeEndpoint(client, settings.aliyunEndpoint), Duration.millis(PROBE_CACHE_MS))
    const configuration = { ok: true, detail: describe(settings) }
    return Readiness.of({
      check: Effect.gen(function*() {
        const provider = yield* probe
        const circuits = yield* breakers.breakerStates
        const sharedState = sharedStateOf(yield* shared.health)
        return { ready: configuration.ok && provider.ok, checks: { configuration, provider, circuits, sharedState } }
      })
    })
  }))
