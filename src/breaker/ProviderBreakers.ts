/**
 * One circuit breaker per provider endpoint (effect's CircuitBreaker, rate policy, memory store: each
 * instance judges the endpoint by its own calls). When the share of failed attempts among the last
 * `breakerWindow` reaches `breakerFailureRatio` (after at least `breakerMinimumCalls`), the breaker
 * opens for `breakerOpenMs`: attempts then fail at once with `Local.CircuitOpen` and decisions degrade
 * immediately instead of waiting out their deadline on a dead endpoint. The first attempt after that
 * is a half-open probe (others are refused while it runs): a success closes the breaker, a failure
 * opens it again. `breakerOpenMs` = 0 turns breakers off.
 *
 * Observable as `breakerStates` (for /readyz), the gauge `precall_circuit_state{endpoint}` (0 closed,
 * 1 half-open, 2 open), the counter `precall_circuit_transitions_total{endpoint,from,to}` and one log
 * line per transition.
 */
import { Context, Duration, Effect, Layer, Metric, Stream } from "effect"
import { CircuitBreaker } from "effect/persistence"
import { LocalCodes, ProviderError } from "../domain/errors.ts"
import type { GuardedCall } from "../engine/ProviderGuard.ts"
import type { Settings } from "../policy/settings.ts"
import { attemptOutcome } from "./outcome.ts"

export type BreakerState = "closed" | "half-open" | "open"

export interface EndpointBreaker {
  readonly endpoint: string
  readonly state: BreakerState
  /** While open: ms until the next attempt may probe the endpoint (0: the next one will). */
  readonly retryAfterMs?: number
}

export interface ProviderBreakersShape {
  /** Fails at once with `Local.CircuitOpen` while the call's endpoint is open; does not admit a probe. */
  readonly rejectIfOpen: (call: GuardedCall) => Effect.Effect<void, ProviderError>
  /** Runs the attempt through its endpoint's breaker, which records its outcome. */
  readonly run: <A>(call: GuardedCall, attempt: Effect.Effect<A, ProviderError>) => Effect.Effect<A, ProviderError>
  /** Every endpoint this instance has called, with its breaker's state; empty when breakers are off. */
  readonly breakerStates: Effect.Effect<ReadonlyArray<EndpointBreaker>>
}

export class ProviderBreakers extends Context.Service<ProviderBreakers, ProviderBreakersShape>()("precall/ProviderBreakers") {}

export const circuitState = Metric.gauge("precall_circuit_state", {
  description: "Circuit breaker state per provider endpoint: 0 closed, 1 half-open, 2 open"
})
export const circuitTransitionsTotal = Metric.counter("precall_circuit_transitions_total", {
  description: "Circuit breaker transitions per provider endpoint, by from and to state"
})

const stateNames = { Closed: "closed", HalfOpen: "half-open", Open: "open" } as const satisfies Record<CircuitBreaker.State["_tag"], BreakerState>
const gaugeValues: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 }

const setGauge = (endpoint: string, state: BreakerState) => Metric.update(Metric.withAttributes(circuitState, { endpoint }), gaugeValues[state])

const onTransition = (t: CircuitBreaker.Transition) => {
  const from = stateNames[t.from]
  const to = stateNames[t.to]
  const log = t.to === "Open"
    ? Effect.logWarning(`circuit breaker for ${t.key}: ${from} → open for ${Duration.toMillis(t.retryAfter)} ms; attempts fail at once (Local.CircuitOpen) until a probe succeeds`)
    : Effect.logInfo(`circuit breaker for ${t.key}: ${from} → ${to}`)
  return Effect.all([
    setGauge(t.key, to),
    Metric.update(Metric.withAttributes(circuitTransitionsTotal, { endpoint: t.key, from, to }), 1),
    log
  ], { discard: true })
}

const rejection = (call: GuardedCall, reason: CircuitBreaker.CircuitBreakerErrorReason) =>
  new ProviderError({
    provider: call.provider,
    action: call.action,
    code: LocalCodes.circuitOpen,
    errorClass: "local",
    message: reason._tag === "CircuitOpen"
      ? `the circuit breaker for ${call.endpoint} is open (too many failed attempts); next probe in ${Math.ceil(Duration.toMillis(reason.retryAfter))} ms`
      : reason._tag === "CircuitHalfOpen"
      ? `the circuit breaker for ${call.endpoint} is half-open and its probe is still running`
      : `the circuit breaker for ${call.endpoint} failed: ${reason.message}`
  })

const off: ProviderBreakersShape = { rejectIfOpen: () => Effect.void, run: (_, attempt) => attempt, breakerStates: Effect.succeed([]) }

const makeBreakers = (settings: Settings) =>
  Effect.gen(function*() {
    if (settings.breakerOpenMs === 0) return off
    const breaker = yield* CircuitBreaker.make({
      tripPolicy: CircuitBreaker.rate({
        threshold: settings.breakerFailureRatio,
        size: settings.breakerWindow,
        // effect requires minimumCalls <= size; settings do not check that (yet), so a larger value means the whole window.
        minimumCalls: settings.breakerMinimumCalls
      }),
      openDuration: Duration.millis(settings.breakerOpenMs)
    }).pipe(Effect.provide(CircuitBreaker.layerStoreMemory()))
    /**
     * Endpoints whose last transition left them not closed, as the transitions stream tells (a turn
     * late, and it may drop events when far behind): only these need their state read before the
     * limit. An endpoint missing here while open is still refused by its breaker, with the same error.
     */
    const notClosed = new Set<string>()
    yield* breaker.transitions.pipe(
      Stream.runForEach((t) => {
        if (t.to === "Closed") notClosed.delete(t.key)
        else notClosed.add(t.key)
        return onTransition(t)
      }),
      Effect.forkScoped({ startImmediately: true })
    )

    const endpoints = new Set<string>()
    /** A memory store never fails; a failure here would be a bug, not an open breaker. */
    const stateOf = (endpoint: string) => Effect.orDie(breaker.state(endpoint))
    const seen = (endpoint: string) =>
      Effect.suspend(() => (endpoints.has(endpoint) ? Effect.void : (endpoints.add(endpoint), setGauge(endpoint, "closed"))))

    return ProviderBreakers.of({
      rejectIfOpen: (call) =>
        !notClosed.has(call.endpoint) ? Effect.void : Effect.flatMap(stateOf(call.endpoint), (state) =>
          state._tag === "Open" && Duration.isGreaterThan(state.retryAfter, Duration.zero)
            ? Effect.fail(rejection(call, new CircuitBreaker.CircuitOpen({ key: call.endpoint, retryAfter: state.retryAfter })))
            : Effect.void),
      run: (call, attempt) => {
        const executed = breaker.execute(attempt, { key: call.endpoint, classify: attemptOutcome }).pipe(
          Effect.catchTag("CircuitBreakerError", (e) => Effect.fail(rejection(call, e.reason)))
        )
        // every attempt passes here: a known endpoint goes straight to its breaker
        return endpoints.has(call.endpoint) ? executed : Effect.andThen(seen(call.endpoint), executed)
      },
      breakerStates: Effect.suspend(() =>
        Effect.forEach([...endpoints], (endpoint) =>
          Effect.map(stateOf(endpoint), (state): EndpointBreaker =>
            state._tag === "Open"
              ? { endpoint, state: "open", retryAfterMs: Math.ceil(Duration.toMillis(state.retryAfter)) }
              : { endpoint, state: stateNames[state._tag] })))
    })
  })

/** The breakers of the settings; needs nothing else (state is per instance). */
export const providerBreakersLayer = (settings: Settings): Layer.Layer<ProviderBreakers> => Layer.effect(ProviderBreakers, makeBreakers(settings))
