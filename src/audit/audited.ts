/**
 * The exposure audit as an Engine decorator: every `fallback-real` decision is written to the
 * ExposureStore before it is returned, and one whose record cannot be written (store down, no answer
 * within PRECALL_AUDIT_TIMEOUT_MS) is returned as the next allowed answer, `refuse`, and counted in
 * `precall_audit_failures_total`. Every other decision passes through untouched.
 *
 * It wraps the engine from outside, so it sees the decision the engine finally gives, whatever
 * produced it (the provider's evidence, a rebind that failed, the degraded answer). A decorator that
 * may turn a decision into `fallback-real` must sit inside it; one that only adds to `refuse` answers
 * may sit outside, and then also sees the refusals the audit makes.
 */
import { Clock, Context, Duration, Effect, Layer, Metric } from "effect"
import type { Decision } from "../domain/decision.ts"
import type { DecideRequest } from "../domain/request.ts"
import { maskNumbersIn } from "../domain/phone.ts"
import { Engine } from "../engine/Engine.ts"
import { decisionPolicy, envNames, InvalidSettings, type Settings } from "../policy/settings.ts"
import { AuditStoreError, ExposureStore } from "./ExposureStore.ts"
import { concealed, type ExposureEntry, makeNumberHasher, type NumberHasher } from "./record.ts"

/** Who asked: the service sets it around each decision; elsewhere both are null. */
export interface RequestContext {
  /** The request id the service answers with (x-request-id). */
  readonly requestId: string | null
  /** The id of the API key that authorised the request (service/auth.ts `keyIdOf`), never the key. */
  readonly apiKeyId: string | null
}

/**
 * The current request's id and API key id, for the audit. A reference with a default, so the engine
 * and every door that does not know them need nothing: the service provides it around `decide`.
 *
 * @since 0.2.0
 */
export const CurrentRequest = Context.Reference<RequestContext>("precall/CurrentRequest", {
  defaultValue: () => ({ requestId: null, apiKeyId: null })
})

export const exposuresAuditedTotal = Metric.counter("precall_exposures_audited_total", {
  description: "fallback-real decisions returned, each after its audit record was written (store)"
})

export const auditFailuresTotal = Metric.counter("precall_audit_failures_total", {
  description: "fallback-real decisions whose audit record could not be written and that were refused instead (store, reason)"
})

/** Real-number fallback is allowed only with the key of the audit's number hash (checked where the audit is built, so the bare engine needs none). */
const missingHashSecret = new InvalidSettings({
  issues: [{
    setting: envNames.auditHashSecret,
    message: `${envNames.allowRealFallback}=true needs a secret for the exposure audit's number hash (at least 16 characters, e.g. openssl rand -hex 32); ` +
      "keep it: records hashed under another secret cannot be searched by number"
  }]
})

type FallbackReal = Extract<Decision, { decision: "fallback-real" }>

/** The record of one fallback-real decision: the real number masked and hashed, never as it is. */
export const exposureEntry = (
  request: DecideRequest,
  decision: FallbackReal,
  settings: Settings,
  hasher: NumberHasher,
  at: number,
  who: RequestContext
): ExposureEntry => ({
  at: new Date(at).toISOString(),
  requestId: who.requestId,
  apiKeyId: who.apiKeyId,
  provider: decision.provider,
  poolKey: request.poolKey,
  subsId: request.subsId,
  phoneNoX: request.phoneNoX,
  ...concealed(hasher, decision.dial),
  policy: decisionPolicy(settings),
  evidence: {
    source: decision.source, status: decision.status, providerCode: decision.providerCode, reason: maskNumbersIn(decision.reason),
    providerRequestIds: decision.requestIds
  }
})

/** The refusal a fallback-real becomes when its exposure cannot be recorded. */
export const refusedForAudit = (d: FallbackReal, e: AuditStoreError): Decision => ({
  ...d,
  decision: "refuse",
  dial: null,
  extension: null,
  subsId: null,
  reason: `${d.reason.replace(/; dialling the real callee$/, "")}; refused: the exposure audit could not record a real-number fallback (${e.store} ${e.reason})`
})

/**
 * Decorates the Engine in context: fallback-real only once its exposure is recorded.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const Audited = auditedEngineLayer(settings).pipe(Layer.provide(engineLayer(settings)), Layer.provide(fileStoreLayer(path)))
 * ```
 */
export const auditedEngineLayer = (settings: Settings): Layer.Layer<Engine, InvalidSettings, Engine | ExposureStore> =>
  Layer.effect(Engine, Effect.gen(function*() {
    if (settings.allowRealFallback && settings.auditHashSecret === undefined) return yield* missingHashSecret
    const inner = yield* Engine
    const store = yield* ExposureStore
    const hasher = settings.auditHashSecret === undefined ? undefined : makeNumberHasher(settings.auditHashSecret)
    const timeout = Duration.millis(settings.auditTimeoutMs)

    const record = (request: DecideRequest, decision: FallbackReal) =>
      Effect.gen(function*() {
        if (hasher === undefined) {
          // the layer refuses allowRealFallback without the secret; should a fallback-real come anyway, it is not let out
          return yield* new AuditStoreError({ reason: "Unavailable", store: store.kind, message: "no PRECALL_AUDIT_HASH_SECRET configured" })
        }
        const entry = exposureEntry(request, decision, settings, hasher, yield* Clock.currentTimeMillis, yield* CurrentRequest)
        yield* store.append(entry).pipe(
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () => Effect.fail(new AuditStoreError({ reason: "Timeout", store: store.kind, message: `no answer within ${settings.auditTimeoutMs} ms` }))
          })
        )
      })

    const audited = (request: DecideRequest, decision: FallbackReal): Effect.Effect<Decision> =>
      record(request, decision).pipe(
        Effect.as<Decision>(decision),
        Effect.tap(() => Metric.update(Metric.withAttributes(exposuresAuditedTotal, { store: store.kind }), 1)),
        Effect.catch((e) =>
          Effect.gen(function*() {
            yield* Metric.update(Metric.withAttributes(auditFailuresTotal, { store: e.store, reason: e.reason }), 1)
            yield* Effect.logWarning({
              msg: "exposure audit failed: fallback-real refused", store: e.store, reason: e.reason, problem: maskNumbersIn(e.message),
              requestId: (yield* CurrentRequest).requestId
            })
            return refusedForAudit(decision, e)
          })
        ),
        Effect.withSpan("precall.audit")
      )

    return Engine.of({
      providers: inner.providers,
      decide: (request) =>
        Effect.flatMap(inner.decide(request), (decision) => decision.decision === "fallback-real" ? audited(request, decision) : Effect.succeed(decision))
    })
  }))
