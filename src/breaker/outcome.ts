/**
 * What one attempt says about the provider endpoint's health, for its circuit breaker.
 * - transient and throttled failures (timeouts, resets, 5xx, isp.SYSTEM_ERROR, Throttling.*) count
 *   against it: the endpoint is down, broken or overloaded;
 * - any other reply, business errors included (binding, pool, bad-input, configuration), counts for
 *   it: the endpoint is alive and answering, and opening the breaker would not fix those;
 * - `local` failures (precall did not call) and interruptions (the deadline cut the attempt short)
 *   say nothing.
 */
import { Cause, Exit } from "effect"
import { CircuitBreaker } from "effect/persistence"
import type { ProviderError } from "../domain/errors.ts"

export const attemptOutcome = <A>(exit: Exit.Exit<A, ProviderError>): CircuitBreaker.Outcome => {
  if (Exit.isSuccess(exit)) return CircuitBreaker.success
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None") return CircuitBreaker.failure() // a defect
  switch (error.value.errorClass) {
    case "transient":
      return CircuitBreaker.failure()
    case "throttled":
      return CircuitBreaker.failure({ retryAfter: error.value.retryAfterMs })
    case "local":
      return CircuitBreaker.ignored
    default:
      return CircuitBreaker.success
  }
}
