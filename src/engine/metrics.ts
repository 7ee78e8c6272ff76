/**
 * The engine's metrics, as effect Metrics (rendered as Prometheus text by the service's /metrics).
 * Attributes are bounded sets (kinds, sources, actions, provider codes), never numbers or ids.
 */
import { Effect, Metric } from "effect"
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
 * the decision path, and the sets are few (kinds × sources, actions, codes).
 */
const taggedOnce = <M extends Metric.Metric<number, unknown>>(metric: M) => {
  const tagged = new Map<string, M>()
  return (attributes: Readonly<Record<string, string>>): M => {
    const key = Object.values(attributes).join("\u0000")
    let m = tagged.get(key)
    if (m === undefined) tagged.set(key, (m = Metric.withAttributes(metric, attributes) as M))
    return m
  }
}

/**
 * Provider codes come from replies; a gateway or proxy that invents codes must not grow the series
 * without bound, so past this many distinct error series new codes are counted as `other`.
 */
const MAX_ERROR_SERIES = 500

const decisionsBy = taggedOnce(decisionsTotal)
const attemptsBy = taggedOnce(providerAttemptsTotal)
const callDurationBy = taggedOnce(providerCallDurationMs)
const errorsBy = taggedOnce(providerErrorsTotal)

/** `provider` is a configured provider's name (never a name taken from a request, which could grow the series). */
export const recordDecision = (d: Decision, provider: string = d.provider) =>
  Effect.andThen(
    Metric.update(decisionsBy({ decision: d.decision, source: d.source, provider }), 1),
    Metric.update(decisionDurationMs, d.elapsedMs)
  )

export const recordAttempt = (provider: string, action: string, durationMs: number) =>
  Effect.andThen(
    Metric.update(attemptsBy({ provider, action }), 1),
    Metric.update(callDurationBy({ provider, action }), durationMs)
  )

const errorSeries = new Set<string>()
export const recordProviderError = (e: ProviderError) => {
  const series = `${e.provider}\u0000${e.action}\u0000${e.code}`
  if (!errorSeries.has(series) && errorSeries.size < MAX_ERROR_SERIES) errorSeries.add(series)
  const code = errorSeries.has(series) ? e.code : "other"
  return Metric.update(errorsBy({ provider: e.provider, action: e.action, code, class: e.errorClass }), 1)
}
