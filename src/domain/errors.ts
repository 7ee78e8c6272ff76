/**
 * Provider failures, classified once. Every provider keeps its own code table (e.g.
 * providers/aliyun/codes.ts) that maps its codes onto these classes; the engine reads only the class.
 */
import { Schema } from "effect"

/**
 * - transient: retry with jitter, then degrade
 * - throttled: back off (longer), then degrade
 * - binding: the binding is gone or in conflict; rebinding may help
 * - pool: no X number or the carrier is degraded; fall back to the real number and alert on capacity
 * - configuration: credentials, permissions, account, pool key; never retried, alert
 * - bad-input: the request was malformed; never retried, fix the caller
 * - local: precall itself did not call the provider (the shared rate limit left no room within the
 *   deadline, or the endpoint's circuit breaker is open); never retried: the decision degrades at once
 */
export const ErrorClass = Schema.Literals(["transient", "throttled", "binding", "pool", "configuration", "bad-input", "local"])
export type ErrorClass = typeof ErrorClass.Type

export const isRetryable = (c: ErrorClass): boolean => c === "transient" || c === "throttled"

/**
 * One failed provider call. `code` is the provider's own code (`isv.FLOW_LIMIT`, `Throttling.User`)
 * or one of ours for failures that never got a coded reply: `Transport.ConnectionError`,
 * `Transport.Timeout`, `Reply.Malformed`, `Reply.HttpStatus<nnn>`.
 */
export class ProviderError extends Schema.TaggedError<ProviderError>()("ProviderError", {
  provider: Schema.String,
  action: Schema.String,
  code: Schema.String,
  errorClass: ErrorClass,
  message: Schema.String,
  httpStatus: Schema.optionalKey(Schema.Number),
  requestId: Schema.optionalKey(Schema.String),
  /** Server's hint (x-acs-retry-after) for throttled replies, in milliseconds. */
  retryAfterMs: Schema.optionalKey(Schema.Number)
}) {}

/** Codes of our own for failures that carried no provider code. */
export const LocalCodes = {
  connection: "Transport.ConnectionError",
  timeout: "Transport.Timeout",
  malformed: "Reply.Malformed",
  httpStatus: (status: number) => `Reply.HttpStatus${status}`,
  rateLimited: "Local.RateLimited",
  circuitOpen: "Local.CircuitOpen"
} as const
