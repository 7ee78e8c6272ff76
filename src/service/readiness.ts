/**
 * `/readyz`: ready when the configuration is valid and the provider endpoint answers. The provider
 * probe is one cheap HTTP request with a short timeout; any HTTP answer (even a 4xx) proves the
 * endpoint is reachable. Its result is cached briefly so frequent probes do not load the provider.
 *
 * The report also shows each endpoint's circuit breaker and the shared Redis. Neither makes the
 * instance unready: with an open breaker it still answers at once (degraded), and without Redis it
 * runs on in-memory state; taking instances out of rotation would help neither. The same holds for
 * the ChatApp sender list: when its refresh fails, the report says so and decisions go on with the
 * last good list.
 *
 * The exposure audit store is probed too, with a one-record query (cached like the provider probe).
 * A failing store makes the instance unready only when real-number fallback is allowed: then every
 * fallback-real would be refused for want of its record, and another instance may have a working
 * store. With fallback off nothing is written, so the report shows the failure and stays ready.
 */
import { Clock, Context, Duration, Effect, Layer, Option, Schema } from "effect"
import { HttpClient } from "effect/http"
import { ProviderBreakers } from "../breaker/ProviderBreakers.ts"
import { ChatappSenders, type SenderList } from "../alternative/ChatappSenders.ts"
import { isUsable } from "../alternative/senders.ts"
import { ExposureStore, type ExposureStoreShape } from "../audit/ExposureStore.ts"
import type { Settings } from "../policy/settings.ts"
import { configuredProviderEndpoints } from "../precall.ts"
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

const ChatappCheck = Schema.Struct({
  /** false while the last refresh failed (decisions then use the last good list, if any). */
  ok: Schema.Boolean,
  custSpaceId: Schema.String,
  /** Sender numbers in the last good list, and how many of them are usable; null before the first good refresh. */
  senders: Schema.NullOr(Schema.Number),
  usable: Schema.NullOr(Schema.Number),
  /** ISO time of the last good refresh; null before the first. */
  refreshedAt: Schema.NullOr(Schema.String),
  /** The failed refresh since then: its code, message and time; null when the last refresh succeeded. */
  lastError: Schema.NullOr(Schema.Struct({ code: Schema.String, message: Schema.String, at: Schema.String }))
})

export const AuditCheck = Schema.Struct({
  ok: Schema.Boolean,
  store: Schema.Literals(["postgres", "file", "memory"]),
  /** The file's path, or PostgreSQL's host and database (never a password). */
  where: Schema.String,
  /** Real-number fallback is allowed (PRECALL_ALLOW_REAL_FALLBACK): the instance is ready only while the store answers. */
  required: Schema.Boolean,
  detail: Schema.String,
  /** Duration of the probe; null when it timed out. */
  latencyMs: Schema.NullOr(Schema.Number),
  checkedAt: Schema.String
})
export type AuditCheck = typeof AuditCheck.Type

export const ReadinessReport = Schema.Struct({
  ready: Schema.Boolean,
  checks: Schema.Struct({
    configuration: ConfigurationCheck,
    provider: ProviderCheck,
    circuits: Schema.Array(CircuitCheck),
    sharedState: SharedStateCheck,
    /** Present when ChatApp is configured (PRECALL_CHATAPP_CUST_SPACE_ID). */
    chatapp: Schema.optionalKey(ChatappCheck),
    /** The exposure audit store; present when the service has one (`precall serve` always does). */
    exposureAudit: Schema.optionalKey(AuditCheck)
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

/** A one-record query of the exposure store: it answers, fails (with its reason) or times out; never fails itself. */
export const probeAuditStore = (store: ExposureStoreShape, required: boolean): Effect.Effect<AuditCheck> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const answer = yield* store.query({ limit: 1 }).pipe(
      Effect.map(() => ({ ok: true, detail: "answers (one-record query)" })),
      Effect.catch((e) => Effect.succeed({ ok: false, detail: `${e.reason}: ${e.message}` })),
      Effect.timeoutOption(Duration.millis(PROBE_TIMEOUT_MS))
    )
    const ended = yield* Clock.currentTimeMillis
    const common = { store: store.kind, where: store.where, required, checkedAt: new Date(ended).toISOString() }
    return answer._tag === "Some"
      ? { ...answer.value, ...common, latencyMs: ended - started }
      : { ok: false, detail: `no answer within ${PROBE_TIMEOUT_MS} ms`, ...common, latencyMs: null }
  })

/** The default provider's endpoint (the first configured one): the one probed. */
export const probedEndpoint = (s: Settings): string => configuredProviderEndpoints(s)[0]?.endpoint ?? s.aliyunEndpoint

const describe = (s: Settings) => {
  const names = configuredProviderEndpoints(s).map((p) => p.name)
  return (names.includes("aliyun") ? `aliyun at ${s.aliyunEndpoint} (signature ${s.aliyunSignature}); ` : "") +
  `deadline ${s.deadlineMs} ms, ${s.maxAttempts} attempts of ${s.attemptTimeoutMs} ms, degraded decision ${s.degradedDecision}` +
  (names.includes("huawei") ? `; huawei at ${s.huaweiEndpoint} (${s.huaweiAuth})` : "") +
  (s.chatappCustSpaceId === undefined ? "" : `; ChatApp senders at ${s.chatappEndpoint}, refreshed every ${s.chatappRefreshS} s`)
}

const sharedStateOf = (h: RedisHealth) => ({
  store: h.configured && h.up ? "redis" as const : "memory" as const,
  redisConfigured: h.configured,
  since: h.configured ? new Date(h.since).toISOString() : null,
  lastError: h.lastError ?? null
})

const chatappOf = (list: SenderList) => ({
  ok: list.failure === undefined,
  custSpaceId: list.custSpaceId,
  senders: list.senders?.length ?? null,
  usable: list.senders?.filter(isUsable).length ?? null,
  refreshedAt: list.refreshedAt === undefined ? null : new Date(list.refreshedAt).toISOString(),
  lastError: list.failure === undefined ? null : { code: list.failure.code, message: list.failure.message, at: new Date(list.failure.at).toISOString() }
})

/** Readiness over the settings the engine runs with (valid by construction: they were decoded at start). */
export const readinessLayer = (
  settings: Settings
): Layer.Layer<Readiness, never, HttpClient.HttpClient | ProviderBreakers | SharedRedis> =>
  Layer.effect(Readiness, Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const breakers = yield* ProviderBreakers
    const shared = yield* SharedRedis
    const chatapp = yield* ChatappSenders
    const probe = yield* Effect.cachedWithTTL(probeEndpoint(client, probedEndpoint(settings)), Duration.millis(PROBE_CACHE_MS))
    const store = yield* Effect.serviceOption(ExposureStore)
    const auditProbe = Option.isSome(store)
      ? yield* Effect.cachedWithTTL(probeAuditStore(store.value, settings.allowRealFallback), Duration.millis(PROBE_CACHE_MS))
      : Effect.succeed(undefined)
    const configuration = { ok: true, detail: describe(settings) }
    return Readiness.of({
      check: Effect.gen(function*() {
        const provider = yield* probe
        const circuits = yield* breakers.breakerStates
        const sharedState = sharedStateOf(yield* shared.health)
        const senders = yield* chatapp.list
        const audit = yield* auditProbe
        return {
          ready: configuration.ok && provider.ok && (audit === undefined || audit.ok || !audit.required),
          checks: {
            configuration, provider, circuits, sharedState,
            ...(senders === undefined ? {} : { chatapp: chatappOf(senders) }),
            ...(audit === undefined ? {} : { exposureAudit: audit })
          }
        }
      })
    })
  }))
