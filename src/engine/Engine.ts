/**
 * The decision pipeline. Policy order, outermost first: status cache → coalescing of identical
 * requests → overall deadline → retry by error class → rate limit → circuit breaker → per-attempt
 * timeout → provider call (the limit and breaker live in the ProviderGuard, the coalescing and cache
 * in DecisionSharing; both are optional).
 *
 * One decision is three steps: gather evidence (the X's health from call outcomes, then the
 * provider's evidence read through its own table), act on the verdict (find the real callee, or
 * bind again: on the same provider, else on the next of PRECALL_REBIND_PROVIDERS), and read the
 * facts through the pure `decide` table. Facts land in one record as they are learnt, so when the
 * deadline cuts the steps short the facts gathered so far still decide: an expired binding is
 * never dialled just because the rebind was slow.
 */
import { Clock, Context, Duration, Effect, Exit, Layer, Option, Schedule } from "effect"
import { decide, type DecisionFacts, type FailureFact, type RebindFact } from "../domain/decide.ts"
import type { Decision } from "../domain/decision.ts"
import { isRetryable, LocalCodes, ProviderError } from "../domain/errors.ts"
import { type Evidence, evidenceOfStatus } from "../domain/evidence.ts"
import { canBind, type Parties, partiesOfDetail, partiesOfRequest, realCalleeOf, requestCanBind } from "../domain/parties.ts"
import type { DecideRequest } from "../domain/request.ts"
import type { StatusAnswer } from "../domain/status.ts"
import { EvidenceStore, type XHealth } from "../evidence/EvidenceStore.ts"
import { SharedRedis } from "../redis/SharedRedis.ts"
import { decisionPolicy, type Settings } from "../policy/settings.ts"
import {
  type BindingDetail,
  genericActions,
  MoreProviders,
  PrivacyNumberProvider,
  type ProviderActions,
  type ProviderShape,
  type StatusQuery
} from "../providers/Provider.ts"
import { DecisionSharing, sharingKeys, sharingKeySecret } from "./DecisionSharing.ts"
import { ProviderGuard } from "./ProviderGuard.ts"
import { timeoutFail, timeoutWith } from "./timeout.ts"
import { spansReceived } from "../telemetry/spans.ts"
import { recordAttemptUnsafe, recordDecision, recordDecisionUnsafe, recordProviderErrorUnsafe } from "./metrics.ts"

export interface EngineShape {
  /** Always succeeds, within `deadlineMs`: provider trouble becomes a degraded decision. */
  readonly decide: (request: DecideRequest) => Effect.Effect<Decision>
  /** Names of the configured providers, the default one first. */
  readonly providers: ReadonlyArray<string>
}

/**
 * The decision engine as a service: `decide` always succeeds, within the deadline.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const engine = yield* Engine
 * const d = yield* engine.decide(request) // a decoded DecideRequest
 * ```
 */
// Stryker disable next-line StringLiteral: the key only has to be one no other service uses, and no other uses "" either
export class Engine extends Context.Service<Engine, EngineShape>()("precall/Engine") {}

/** Failures after which the provider may or may not have acted. */
const outcomeUnknown = (e: ProviderError): boolean =>
  e.code === LocalCodes.timeout || e.code === LocalCodes.connection || e.code === LocalCodes.malformed || e.code.startsWith("Reply.HttpStatus")

/**
 * The provider could not make a binding and surely made none: no X in the pool, the breaker open or
 * no room in the limit, or a refusal it answered. Then another provider may bind the same parties.
 */
const cannotBind = (e: ProviderError): boolean =>
  e.errorClass === "pool" || e.errorClass === "local" || (isRetryable(e.errorClass) && !outcomeUnknown(e))

const toFact = (e: ProviderError): FailureFact => ({ code: e.code, errorClass: e.errorClass, message: e.message })

/** The first typed failure of an exit, if it failed with one. */
const failureOf = (exit: Exit.Exit<unknown, ProviderError>): ProviderError | undefined => {
  if (exit._tag === "Success") return undefined
  for (const r of exit.cause.reasons) if (r._tag === "Fail") return r.error
  return undefined
}

/**
 * Fails with `first` the first time it runs, then runs `effect`: an attempt that already failed,
 * handed to `Effect.retry` so the schedule sees that failure exactly as if the retry had run it.
 * The success path then builds no retry machinery at all.
 */
const replaying = <A>(first: ProviderError, effect: Effect.Effect<A, ProviderError>): Effect.Effect<A, ProviderError> => {
  let replayed = false
  return Effect.suspend(() => {
    if (replayed) return effect
    replayed = true
    return Effect.fail(first)
  })
}

/**
 * `Effect.flatMap`, applied at once when `self` is already a success exit: a decision whose steps
 * all answer at once (a status-cache hit on in-memory state) stays an exit, which the deadline
 * reads without a fiber of its own (timeout.ts).
 */
const flatMapNow = <A, E, B, E2>(self: Effect.Effect<A, E>, f: (a: A) => Effect.Effect<B, E2>): Effect.Effect<B, E | E2> =>
  Exit.isExit(self) && Exit.isSuccess(self) ? f((self as Exit.Success<A, E>).value) : Effect.flatMap(self, f)

const actionsOf = (p: ProviderShape): ProviderActions => ({ ...genericActions, ...p.actions })

/** The provider's evidence: its own table's, or its status 1-4 answer read through the neutral one. */
const evidenceFrom = (p: ProviderShape, query: StatusQuery): Effect.Effect<Evidence, ProviderError> =>
  "evidence" in p ? p.evidence(query) : Effect.map(p.queryCallStatus(query), (a) => evidenceOfStatus(a, actionsOf(p).queryCallStatus))

/** A status-1 verdict in the form the status cache keeps. */
const reusableAnswer = (e: Evidence): StatusAnswer | undefined =>
  e.reusable && e.verdict._tag === "UseX"
    ? { status: 1, calledNo: e.verdict.calledNo, extension: e.verdict.extension, requestId: e.requestId }
    : undefined

/** What one decision has learnt so far; written as facts come in, read once at the end. */
interface Learnt {
  evidence: Evidence | undefined
  failure: ProviderError | undefined
  realCallee: string | undefined
  rebind: RebindFact | undefined
  detail: Option.Option<BindingDetail> | undefined
  attempts: number
  requestIds: Array<string>
}

export const makeEngine = (settings: Settings) =>
  Effect.gen(function*() {
    const primary = yield* PrivacyNumberProvider
    const providers = new Map<string, ProviderShape>([primary, ...(yield* MoreProviders)].map((p) => [p.name, p]))
    const store = Option.getOrUndefined(yield* Effect.serviceOption(EvidenceStore))
    const guard = yield* ProviderGuard
    const sharing = yield* DecisionSharing
    // Without a Redis (precall's own composition, none configured) the keys never leave the process.
    const shared = Option.getOrUndefined(yield* Effect.serviceOption(SharedRedis))
    const { statusKey, requestKey } = sharingKeys(sharingKeySecret(settings), shared !== undefined && shared.redis === undefined)
    const policy = decisionPolicy(settings)
    const attemptTimeout = Duration.millis(settings.attemptTimeoutMs)
    // Throttled replies back off four times longer, and never sooner than the server asks
    // (x-acs-retry-after): that floor is applied after the jitter so the jitter cannot undercut it.
    const backoff = Schedule.exponential(Duration.millis(settings.retryBaseMs)).pipe(
      Schedule.setInputType<ProviderError>(),
      Schedule.jittered,
      Schedule.modifyDelay(({ input, duration }) =>
        Effect.succeed(input.errorClass === "throttled" ? Math.max(Duration.toMillis(duration) * 4, input.retryAfterMs ?? 0) : duration))
    )
    /**
     * Class-aware retries. A non-idempotent action (Bind*) is retried only when the provider said it
     * did not act; after a timeout, a reset or an unreadable reply the binding may exist, and a
     * retry would make a second one.
     */
    const retryIdempotent = {
      schedule: backoff, times: settings.maxAttempts - 1, while: (e: ProviderError) => isRetryable(e.errorClass)
    }
    const retryNotIdempotent = {
      schedule: backoff, times: settings.maxAttempts - 1, while: (e: ProviderError) => isRetryable(e.errorClass) && !outcomeUnknown(e)
    }
    const attemptTimedOut = (provider: string, action: string) =>
      new ProviderError({
        provider, action, code: LocalCodes.timeout, errorClass: "transient", message: `no reply within ${settings.attemptTimeoutMs} ms`
      })

    /** X health from call outcomes: when number-class failures crossed the threshold, the X is broken whatever a query says. */
    const healthVerdict = (h: XHealth): Evidence | undefined =>
      h.unhealthy
        ? {
          verdict: { _tag: "XBroken", temporary: false }, requestId: undefined, reusable: false,
          source: `${h.numberFailures} number-class call failures on X in ${Math.round(h.windowS / 60)} min`
        }
        : undefined

    /**
     * One decision within `budgetMs` (the deadline, or what a coalesced request has left of it), from
     * a reusable status-1 answer when one is at hand, else from the provider's evidence. Called when
     * the decision runs (its deadline counts from then), on the clock of the fiber that runs it;
     * `traced`: spans are made (telemetry/spans.ts).
     */
    const decideOne = (
      provider: ProviderShape,
      request: DecideRequest,
      budgetMs: number,
      cacheKey: string,
      cached: StatusAnswer | undefined,
      arrivedAt: number,
      clock: Clock.Clock,
      traced: boolean
    ): Effect.Effect<Decision> => {
      const startedAt = clock.currentTimeMillisUnsafe()
      const deadlineAt = startedAt + budgetMs
      const learnt: Learnt = {
        evidence: undefined, failure: undefined, realCallee: request.realCallee, rebind: undefined, detail: undefined,
        attempts: 0, requestIds: []
      }

      /** One provider action with per-attempt timeout and class-aware retries (`retryIdempotent`, `retryNotIdempotent`). */
      const call = <A>(p: ProviderShape, action: string, effect: Effect.Effect<A, ProviderError>, idempotent = true) => {
        // Inside the guard: counted, timed (metrics) and cut at the attempt timeout.
        const attempt: Effect.Effect<A, ProviderError> = Effect.suspend(() => {
          learnt.attempts++
          const start = clock.currentTimeMillisUnsafe()
          // One span per provider attempt, a child of the decision's; no number in any attribute.
          const spanned = traced
            ? Effect.withSpan(effect, "precall.provider.call", {
              attributes: { "precall.provider": p.name, "precall.action": action, "precall.attempt": learnt.attempts },
              captureStackTrace: false
            })
            : effect
          return timeoutFail(spanned, attemptTimeout, () => attemptTimedOut(p.name, action), (exit, context) => {
            recordAttemptUnsafe(p.name, action, clock.currentTimeMillisUnsafe() - start, context)
            const failure = failureOf(exit)
            if (failure !== undefined) recordProviderErrorUnsafe(failure, context)
          })
        })
        // One try: the guard (limit, breaker) around the attempt, and what it taught; `afterFailure`
        // is what a failure leads to, learnt first.
        const tried = (afterFailure: (e: ProviderError) => Effect.Effect<A, ProviderError>): Effect.Effect<A, ProviderError> =>
          Effect.suspend(() =>
            Effect.matchEffect(guard.run({ provider: p.name, endpoint: p.endpoint, action, budgetMs: deadlineAt - clock.currentTimeMillisUnsafe() }, attempt), {
              onFailure: (e) => {
                learnt.failure = e
                if (e.requestId !== undefined) learnt.requestIds.push(e.requestId)
                return afterFailure(e)
              },
              onSuccess: (a) => {
                const id = (a as { readonly requestId?: unknown } | undefined)?.requestId
                if (typeof id === "string") learnt.requestIds.push(id)
                return Effect.succeed(a)
              }
            }))
        if (settings.maxAttempts <= 1) return tried(Effect.fail)
        const retry = idempotent ? retryIdempotent : retryNotIdempotent
        // Retries only after a failure that allows one; the schedule then sees that failure first.
        // The first try decides that in its own failure handler, so a success passes no catch and
        // builds nothing for a retry.
        return tried((e) => retry.while(e) ? Effect.retry(replaying(e, tried(Effect.fail)), retry) : Effect.fail(e))
      }

      const ref = { poolKey: request.poolKey, subsId: request.subsId, phoneNoX: request.phoneNoX }

      /**
       * What the verdicts other than "dial X" need: the binding's detail, its parties, the real
       * callee and a new binding. Made only when such a verdict comes, so a status-1 decision does
       * not build them.
       */
      const recovery = () => {
        /** The binding's detail, asked for at most once and only when a fallback or a rebind needs it. */
        const detail = Effect.suspend(() =>
          learnt.detail !== undefined
            ? Effect.succeed(learnt.detail)
            : call(provider, actionsOf(provider).bindingDetail, provider.bindingDetail(ref)).pipe(
              Effect.option,
              Effect.tap((d) => Effect.sync(() => (learnt.detail = d)))
            )
        )
        const fromRequest = partiesOfRequest(request.binding, request.extension)
        /** The parties from the provider's detail, which wins whole; the request's when the detail cannot be had. */
        const fromDetail: Effect.Effect<Parties> = Effect.map(detail, (d) => (Option.isSome(d) ? partiesOfDetail(d.value) : fromRequest))

        /** The real callee: from the request's own parties when they tell, else from the binding's detail (its mode wins). */
        const learnRealCallee = Effect.gen(function*() {
          if (!policy.allowRealFallback || learnt.realCallee !== undefined) return
          if (request.binding !== undefined) learnt.realCallee = realCalleeOf(fromRequest, request.callerNo)
          if (learnt.realCallee === undefined) learnt.realCallee = realCalleeOf(yield* fromDetail, request.callerNo)
        })

        /** Binds the parties on `p`, as a Result: its failure says whether another provider may try. */
        const bindOn = (p: ProviderShape, who: Parties & { readonly phoneNoA: string }, avoidX: ReadonlyArray<string>, temporary: boolean) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            const lifetimeS = temporary ? settings.temporaryBindingS : settings.bindingTtlS
            // a binding moved to another provider goes into that provider's own pool, on its own X numbers
            const own = p === provider
            const poolKey = own ? request.poolKey : p.rebindPoolKey ?? request.poolKey
            return yield* call(p, actionsOf(p).bind(who.mode), p.bind({
              poolKey, mode: who.mode, phoneNoA: who.phoneNoA, phoneNoB: who.phoneNoB,
              expiresAt: now + lifetimeS * 1000, avoidX, temporary,
              previousX: own && avoidX.length === 0 ? request.phoneNoX : undefined
            }), false).pipe(Effect.result)
          })

        /**
         * A new binding for the same parties: on the binding's own provider, avoiding a broken X;
         * when that provider cannot bind (no X, down, breaker open), on the next of PRECALL_REBIND_PROVIDERS.
         */
        const rebind = (avoidX: ReadonlyArray<string>, temporary: boolean) =>
          Effect.gen(function*() {
            const who = requestCanBind(request.binding) ? fromRequest : yield* fromDetail
            if (!canBind(who)) {
              learnt.rebind = { _tag: "Failed", failure: learnt.failure === undefined ? undefined : toFact(learnt.failure), why: "the binding's parties are unknown" }
              return
            }
            const own = yield* bindOn(provider, who, avoidX, temporary)
            if (own._tag === "Success") {
              learnt.rebind = { _tag: "Bound", provider: provider.name, ...own.success, temporary }
              learnt.failure = undefined
              if (!temporary && avoidX.length > 0 && provider.unbind !== undefined) {
                // moving away from a broken X: the old binding goes (AX bindings never expire on their own)
                yield* call(provider, actionsOf(provider).unbind, provider.unbind(ref), false).pipe(Effect.ignore)
              }
              return
            }
            learnt.rebind = { _tag: "Failed", failure: toFact(own.failure), why: "the provider refused the new binding" }
            if (!cannotBind(own.failure)) return
            for (const name of settings.rebindProviders) {
              const other = providers.get(name)
              if (other === undefined || other === provider) continue
              const moved = yield* bindOn(other, who, [], temporary)
              if (moved._tag === "Success") {
                learnt.rebind = { _tag: "Bound", provider: other.name, ...moved.success, temporary, movedBecause: toFact(own.failure) }
                learnt.failure = undefined
                return
              }
              learnt.rebind = { _tag: "Failed", failure: toFact(moved.failure), why: `neither ${provider.name} nor ${other.name} could make a new binding` }
              if (!cannotBind(moved.failure)) return
            }
          })

        /** Rebinds; when no new binding could be made, learns the real callee instead. */
        const rebindElseRealCallee = (avoidX: ReadonlyArray<string>, temporary: boolean) =>
          Effect.andThen(
            rebind(avoidX, temporary),
            // Stryker disable next-line OptionalChaining: rebind() sets learnt.rebind on every path before this runs
            Effect.suspend(() => learnt.rebind?._tag === "Bound" ? Effect.void : learnRealCallee)
          )
        return { learnRealCallee, rebindElseRealCallee }
      }

      /** Acts on the verdict: what each one needs before the table can decide. */
      const act = (evidence: Evidence): Effect.Effect<void> => {
        const v = evidence.verdict
        switch (v._tag) {
          case "UseX":
          case "TemporaryX":
            return Effect.void
          case "NothingDialable":
            return recovery().learnRealCallee
          case "Expired":
            return recovery().rebindElseRealCallee([], false)
          case "XBroken":
            return recovery().rebindElseRealCallee([request.phoneNoX], v.temporary)
        }
      }

      /** Learns the evidence and acts on it. */
      const fromEvidence = (evidence: Evidence): Effect.Effect<void> => {
        learnt.evidence = evidence
        learnt.failure = undefined
        return act(evidence)
      }
      /** The provider's evidence, offered for reuse when it is a reusable status 1; none when it could not be had (the failure is learnt). */
      const ask = () => Effect.matchEffect(call(provider, actionsOf(provider).queryCallStatus, evidenceFrom(provider, { ...ref, callerNo: request.callerNo })), {
        onFailure: () => Effect.void,
        onSuccess: (evidence) => {
          const reusable = reusableAnswer(evidence)
          return reusable === undefined ? fromEvidence(evidence) : Effect.andThen(sharing.offerStatus(cacheKey, reusable, clock.currentTimeMillisUnsafe()), fromEvidence(evidence))
        }
      })
      const gathered = (health: Evidence | undefined): Effect.Effect<void> =>
        health !== undefined
          ? fromEvidence(health)
          : cached !== undefined
          ? fromEvidence(evidenceOfStatus(cached, actionsOf(provider).queryCallStatus))
          : ask()
      const pipeline = store === undefined
        ? gathered(undefined)
        : flatMapNow(store.xHealth(provider.name, request.phoneNoX, startedAt), (h) => gathered(healthVerdict(h)))

      // The facts are read when the pipeline ended or was cut at the deadline, in the same step.
      return timeoutWith(pipeline, Duration.millis(Math.max(0, budgetMs)), (exit, context) => {
        if (exit !== undefined && exit._tag === "Failure") return Exit.failCause(exit.cause) // a defect, not a decision
        const facts: DecisionFacts = {
          provider: provider.name, subsId: request.subsId, phoneNoX: request.phoneNoX, extension: request.extension,
          evidence: learnt.evidence, failure: learnt.failure === undefined ? undefined : toFact(learnt.failure), timedOut: exit === undefined,
          realCallee: learnt.realCallee, rebind: learnt.rebind,
          fromCache: cached !== undefined && learnt.evidence?.verdict._tag === "UseX"
        }
        const decision = {
          ...decide(facts, policy),
          poolKey: request.poolKey, attempts: learnt.attempts, elapsedMs: clock.currentTimeMillisUnsafe() - arrivedAt, requestIds: learnt.requestIds
        } as Decision
        recordDecisionUnsafe(decision, decision.provider, context)
        return Exit.succeed(decision)
      })
    }

    /** The decision's span: no stack trace captured (a `new Error()` per decision, for a frame inside precall). */
    const decideSpan = { captureStackTrace: false } as const

    /** A request naming a provider that is not configured: nothing can be asked, nothing dialled. */
    const unknownProvider = (request: DecideRequest, name: string) =>
      Effect.gen(function*() {
        const decision: Decision = {
          decision: "refuse", dial: null, extension: null, subsId: null, provider: name, poolKey: request.poolKey,
          status: null, source: "degraded", providerCode: "Local.UnknownProvider", attempts: 0, elapsedMs: 0, requestIds: [],
          reason: `provider ${name} is not configured (configured: ${[...providers.keys()].join(", ")}); refused`
        }
        yield* recordDecision(decision, "unknown")
        return decision
      })

    return Engine.of({
      providers: [...providers.keys()],
      // A reusable answer needs no provider call, so it is looked up before coalescing: only the
      // requests that will call the provider wait for each other.
      // The deadline counts from arrival: the time the lookup took comes off the budget.
      decide: (request) =>
        Effect.withFiber((fiber) => {
          const traced = spansReceived(fiber)
          const name = request.provider ?? primary.name
          const provider = providers.get(name)
          if (provider === undefined) {
            return traced ? Effect.withSpan(unknownProvider(request, name), "precall.decide", decideSpan) : unknownProvider(request, name)
          }
          const clock = fiber.getRef(Clock.Clock)
          const arrivedAt = clock.currentTimeMillisUnsafe()
          const cacheKey = statusKey(request.poolKey, request.subsId, request.callerNo, provider.name)
          const decision = flatMapNow(sharing.cachedStatus(cacheKey, arrivedAt), (cached) => {
            const left = settings.deadlineMs - (clock.currentTimeMillisUnsafe() - arrivedAt)
            return cached !== undefined
              ? decideOne(provider, request, left, cacheKey, cached, arrivedAt, clock, traced)
              : sharing.coalesce(requestKey(request), left, (budgetMs) => decideOne(provider, request, budgetMs, cacheKey, undefined, arrivedAt, clock, traced))
          })
          if (!traced) return decision
          return Effect.withSpan(
            Effect.tap(decision, (d) =>
              Effect.annotateCurrentSpan({
                "precall.provider": provider.name, "precall.decision": d.decision, "precall.source": d.source, "precall.attempts": d.attempts
              })),
            "precall.decide",
            decideSpan
          )
        })
    })
  })

/**
 * The engine alone over a provider in context (no cache, limits or breakers unless provided).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const Core = engineLayer(settings).pipe(Layer.provide(providerLayer(settings)))
 * ```
 */
export const engineLayer = (settings: Settings): Layer.Layer<Engine, never, PrivacyNumberProvider> =>
  Layer.effect(Engine, makeEngine(settings))
