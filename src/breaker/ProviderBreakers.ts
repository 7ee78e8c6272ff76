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
 *
 * The state machine is effect's (`CircuitBreakerStore` from `layerStoreMemory`, the `rate` trip
 * policy, its errors); an attempt goes through it here with the store's `admit` and `record`, as
 * `CircuitBreaker.execute` does, in a handful of effect steps. `execute` wraps every call in a Scope,
 * a generator, exit and classification steps of its own and a PubSub of transitions: about 35 µs of
 * CPU per live decision in the benchmark (issue 11), a third of precall's cost over the bare request.
 * Transitions are acted on where they happen (metrics, log line, the not-closed set), not a turn later.
 */
import { Cause, Context, Duration, Effect, Exit, Layer, Metric } from "effect"
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
  /** Fails at once with `Local.CircuitOpen` while the call's endpoint is open, else runs `next`; does not admit a probe. */
  readonly unlessOpen: <A>(call: GuardedCall, next: Effect.Effect<A, ProviderError>) => Effect.Effect<A, ProviderError>
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

const off: ProviderBreakersShape = { unlessOpen: (_, next) => next, run: (_, attempt) => attempt, breakerStates: Effect.succeed([]) }

/** How long a tripped breaker stays open: effect's `maxOpenDuration` default caps a provider's retry-after hint. */
const MAX_OPEN = Duration.hours(1)

const makeBreakers = (settings: Settings) =>
  Effect.gen(function*() {
    if (settings.breakerOpenMs === 0) return off
    const tripPolicy = CircuitBreaker.rate({
      threshold: settings.breakerFailureRatio,
      size: settings.breakerWindow,
      minimumCalls: settings.breakerMinimumCalls // settings hold it to at most the window, as effect requires
    })
    const openDuration = Duration.millis(settings.breakerOpenMs)
    const store = yield* Effect.provide(Effect.service(CircuitBreaker.CircuitBreakerStore), CircuitBreaker.layerStoreMemory())
    /**
     * An admission of the memory store: a clock read and a state change. Its type asks for a Scope,
     * where a Redis store keeps a probe's lease; the memory store uses none, so none is provided per
     * attempt (a context change and its finalizer, two Effect steps of every provider call; should a
     * later store use one, every breaker test fails on the missing service).
     */
    const admit = store.admit as (endpoint: string) => Effect.Effect<CircuitBreaker.Admission, CircuitBreaker.CircuitBreakerError>
    /** Endpoints whose last transition left them not closed: only these need their state read before the limit. */
    const notClosed = new Set<string>()
    const transitioned = (t: CircuitBreaker.Transition | undefined): Effect.Effect<void> => {
      if (t === undefined) return Effect.void
      if (t.to === "Closed") notClosed.delete(t.key)
      else notClosed.add(t.key)
      return onTransition(t)
    }
    /** What the store is told when the attempt ended: what effect's `CircuitBreaker.execute` records. */
    const recorded = (endpoint: string, admission: CircuitBreaker.Admission, exit: Exit.Exit<unknown, ProviderError>) => {
      const outcome = Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? CircuitBreaker.ignored : attemptOutcome(exit)
      const openFor = outcome._tag === "Failure" && outcome.retryAfter !== undefined
        ? Duration.max(openDuration, Duration.min(outcome.retryAfter, MAX_OPEN))
        : openDuration
      return Effect.matchEffect(store.record({ key: endpoint, generation: admission.generation, outcome: outcome._tag, tripPolicy, openFor }), {
        // the memory store does not fail; were it to, the outcome would go unrecorded, as execute does
        onFailure: () => Effect.void,
        onSuccess: transitioned
      })
    }

    const endpoints = new Set<string>()
    /** A memory store never fails; a failure here would be a bug, not an open breaker. */
    const stateOf = (endpoint: string) => Effect.orDie(store.state(endpoint))
    const seen = (endpoint: string) =>
      Effect.suspend(() => (endpoints.has(endpoint) ? Effect.void : (endpoints.add(endpoint), setGauge(endpoint, "closed"))))

    return ProviderBreakers.of({
      unlessOpen: (call, next) =>
        !notClosed.has(call.endpoint) ? next : Effect.flatMap(stateOf(call.endpoint), (state) =>
          state._tag === "Open" && Duration.isGreaterThan(state.retryAfter, Duration.zero)
            ? Effect.fail(rejection(call, new CircuitBreaker.CircuitOpen({ key: call.endpoint, retryAfter: state.retryAfter })))
            : next),
      run: (call, attempt) => {
        // Admitted, run, recorded: an admitted attempt is always recorded (a half-open probe that
        // was never recorded would keep its breaker half-open), so only the attempt is interruptible.
        const executed = Effect.uninterruptibleMask((restore) =>
          Effect.matchEffect(admit(call.endpoint), {
            onFailure: (e) => e.reason._tag === "CircuitBreakerStoreError" ? restore(attempt) : Effect.fail(rejection(call, e.reason)),
            onSuccess: (admission) => {
              const ran = Effect.onExit(restore(attempt), (exit) => recorded(call.endpoint, admission, exit))
              return admission.transition === undefined ? ran : Effect.andThen(transitioned(admission.transition), ran)
            }
          }))
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
