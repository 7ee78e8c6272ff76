/**
 * The ProviderGuard precall runs with: the shared rate limit (src/limits), then the endpoint's
 * circuit breaker (src/breaker), then the attempt. One check comes before the limit: while the
 * endpoint's breaker is open, a call is refused at once rather than after queueing for a turn it
 * would not use. A throttling reply from the provider slows the shared limit down.
 */
import { Effect, Layer } from "effect"
import { ProviderBreakers, providerBreakersLayer } from "../breaker/ProviderBreakers.ts"
import { makeProviderLimits } from "../limits/ProviderLimits.ts"
import type { Settings } from "../policy/settings.ts"
import type { SharedRedis } from "../redis/SharedRedis.ts"
import { ProviderGuard, type ProviderGuardShape } from "./ProviderGuard.ts"

const makeGuard = (settings: Settings) =>
  Effect.gen(function*() {
    const limits = yield* makeProviderLimits(settings)
    const breakers = yield* ProviderBreakers
    const guard: ProviderGuardShape = {
      // An action without a limit has no turn to queue for and no limit to slow down: the breaker
      // alone (which refuses at once while open, with the same error) is the whole guard.
      run: (call, attempt) =>
        !limits.limited(call.action) ? breakers.run(call, attempt) : breakers.unlessOpen(call, limits.withTurn(call, breakers.run(call, attempt))).pipe(
          Effect.tapError((e) => (e.errorClass === "throttled" ? limits.throttled(call, e.retryAfterMs) : Effect.void))
        )
    }
    return guard
  })

/**
 * Provides the ProviderGuard reference (limits → breaker → attempt) and `ProviderBreakers` (their
 * states, for /readyz). Limits are shared through `SharedRedis` when it has a Redis.
 */
export const guardLayer = (settings: Settings): Layer.Layer<ProviderBreakers, never, SharedRedis> =>
  Layer.effect(ProviderGuard, makeGuard(settings)).pipe(Layer.provideMerge(providerBreakersLayer(settings)))
