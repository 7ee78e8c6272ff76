/**
 * The engine's metrics, as effect Metrics (rendered as Prometheus text by the service's /metrics).
 * Attributes are bounded sets (kinds, sources, actions, provider codes), never numbers or ids.
 */
import { type Context, Effect, Metric } from "effect"
import type { Decision } from "../domain/decision.ts"
import type { ProviderError } from "../domain/errors.ts"

export const decisionsTotal = Metric.counter("precall_decisions_total", {
  description: "Decisions made, by decision kind, source and provider"
})
export const decisionDurationMs = Metric.histogram("precall_decision_duration_ms", {
  description: "Time to reach a decision, in milliseconds",
  boundaries: Metric.exponentialBoundaries({ start: 1, factor: 2, count: 12 })
})
export const providerCallDurationMs = Metric.histogram("precall_provider_call_duration_ms", {
  description: "Duration of one provider call (attempt), in milliseconds, by provider and action",
  boundaries: Metric.exponentialBoundaries({ start: 1, factor: 2, count: 12 })
})
export const providerAttemptsTotal = Metric.counter("precall_provider_attempts_total", {
  description: "Provider calls made, retries included, by provider and action"
})
export const providerErrorsTotal = Metric.counter("precall_provider_errors_total", {
  description: "Failed provider calls, by provider, action, provider code and error class"
})

/**
 * A metric tagged with a set of attributes, made once per set: tagging on every update allocates on
 * the decision path, and the sets are few (kinds × sources, actions, codes). Found by the attribute
 * values alone, one Map level per attribute, so an update builds no key and no attributes object.
 */
export const taggedOnce = <M extends Metric.Metric<number, unknown>, const Names extends ReadonlyArray<string>>(metric: M, names: Names) => {
  const root = new Map<string, unknown>()
  return (...values: { readonly [K in keyof Names]: string }): M => {
    let level = root
    const last = values.length - 1
    for (let i = 0; i < last; i++) {
      let inner = level.get(values[i]!) as Map<string, unknown> | undefined
      if (inner === undefined) level.set(values[i]!, (inner = new Map()))
      level = inner
    }
    let m = level.get(values[last]!) as M | undefined
    if (m === undefined) {
      level.set(values[last]!, (m = Metric.withAttributes(metric, Object.fromEntries(names.map((name, i) => [name, values[i]!]))) as M))
    }
    return m
  }
}

/**
 * Provider codes come from replies; a gateway or proxy that invents codes must not grow the series
 * without bound, so past this many distinct error series new codes are counted as `other`.
 */
const MAX_ERROR_SERIES = 500

const decisionsBy = taggedOnce(decisionsTotal, ["decision", "source", "provider"])
const attemptsBy = taggedOnce(providerAttemptsTotal, ["provider", "action"])
const callDurationBy = taggedOnce(providerCallDurationMs, ["provider", "action"])
const errorsBy = taggedOnce(providerErrorsTotal, ["provider", "action", "code", "class"])

/**
 * The updates below in their unsafe form, for a caller that already holds the fiber's context
 * (`Effect.contextWith`): one effect operation per decision or attempt instead of one per metric.
 */
export const recordDecisionUnsafe = (d: Decision, provider: string, context: Context.Context<never>): void => {
  decisionsBy(d.decision, d.source, provider).updateUnsafe(1, context)
  decisionDurationMs.updateUnsafe(d.elapsedMs, context)
}

export const recordAttemptUnsafe = (provider: string, action: string, durationMs: number, context: Context.Context<never>): void => {
  attemptsBy(provider, action).updateUnsafe(1, context)
  callDurationBy(provider, action).updateUnsafe(durationMs, context)
}

const errorSeries = new Set<string>()
export const recordProviderErrorUnsafe = (e: ProviderError, context: Context.Context<never>): void => {
  const series = `${e.provider}\u0000${e.action}\u0000${e.code}`
  if (!errorSeries.has(series) && errorSeries.size < MAX_ERROR_SERIES) errorSeries.add(series)
  const code = errorSeries.has(series) ? e.code : "other"
  errorsBy(e.provider, e.action, code, e.errorClass).updateUnsafe(1, context)
}

/** `provider` is a configured provider's name (never a name taken from a request, which could grow the series). */
export const recordDecision = (d: Decision, provider: string = d.provider): Effect.Effect<void> =>
  Effect.contextWith((context) => Effect.sync(() => recordDecisionUnsafe(d, provider, context)))

export const recordAttempt = (provider: string, action: string, durationMs: number): Effect.Effect<void> =>
  Effect.contextWith((context) => Effect.sync(() => recordAttemptUnsafe(provider, action, durationMs, context)))

export const recordProviderError = (e: ProviderError): Effect.Effect<void> =>
  Effect.contextWith((context) => Effect.sync(() => recordProviderErrorUnsafe(e, context)))
