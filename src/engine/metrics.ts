/**
 * The engine's metrics, as effect Metrics (rendered as Prometheus text by the service's /metrics).
 * Attributes are bounded sets (kinds, sources, actions, provider codes), never numbers or ids.
 */
import { Effect, Metric } from "effect"
import type { Decision } from "../domain/decision.ts"
import type { ProviderError } from "../domain/errors.ts"

export const decisionsTotal = Metric.counter("precall_decisions_total", {
  description: "Decisions made, by decision kind and source"
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

export const recordDecision = (d: Decision) =>
  Effect.all([
    Metric.update(Metric.withAttributes(decisionsTotal, { decision: d.decision, source: d.source }), 1),
    Metric.update(decisionDurationMs, d.elapsedMs)
  ], { discard: true })

export const recordAttempt = (provider: string, action: string, durationMs: number) =>
  Effect.all([
    Metric.update(Metric.withAttributes(providerAttemptsTotal, { provider, action }), 1),
    Metric.update(Metric.withAttributes(providerCallDurationMs, { provider, action }), durationMs)
  ], { discard: true })

export const recordProviderError = (e: ProviderError) =>
  Metric.update(Metric.withAttributes(providerErrorsTotal, { provider: e.provider, action: e.action, code: e.code, class: e.errorClass }), 1)
