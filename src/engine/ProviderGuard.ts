/**
 * What stands between the engine and one provider attempt: the shared rate limit and the endpoint's
 * circuit breaker (src/limits, src/breaker). The engine asks the guard for every attempt; the guard
 * answers with the attempt's own result or a `local`-class ProviderError when it did not call.
 */
import { Context, type Effect, Layer } from "effect"
import type { ProviderError } from "../domain/errors.ts"

export interface GuardedCall {
  readonly provider: string
  /** The endpoint the call goes to: the circuit breaker's key. */
  readonly endpoint: string
  readonly action: string
  /** Time left before the decision's deadline: how long the rate limit may make the call wait. */
  readonly budgetMs: number
}

export interface ProviderGuardShape {
  readonly run: <A>(call: GuardedCall, attempt: Effect.Effect<A, ProviderError>) => Effect.Effect<A, ProviderError>
}

/** No limit and no breaker: every attempt goes straight to the provider. */
export const passThrough: ProviderGuardShape = { run: (_, attempt) => attempt }

/** The guard in use; pass-through unless a layer provides one (`guardLayer` in src/engine/guard.ts). */
// Stryker disable next-line StringLiteral: the key only has to be one no other service uses, and no other uses "" either
export const ProviderGuard = Context.Reference<ProviderGuardShape>("precall/ProviderGuard", { defaultValue: () => passThrough })

export const providerGuardLayer = (guard: ProviderGuardShape): Layer.Layer<never> => Layer.succeed(ProviderGuard, guard)
