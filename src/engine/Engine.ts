/**
 * The decision pipeline. Policy order, outermost first: status cache → coalescing of identical
 * requests → overall deadline → retry by error class → rate limit → circuit breaker → per-attempt
 * timeout → provider call (the limit and breaker live in the ProviderGuard, the coalescing and cache
 * in DecisionSharing; both are optional). Facts gathered along the way (status, real callee, rebind)
 * feed the pure `decide` table; when the deadline cuts the pipeline short, the facts gathered so far
 * still decide, so an expired binding is never dialled just because the rebind was slow.
 */
import { Clock, Context, Duration, Effect, Layer, Option, Schedule } from "effect"
import type { BindingMode } from "../domain/binding.ts"
import { decide, type DecisionFacts, type FailureFact, type RebindFact } from "../domain/decide.ts"
import type { Decision } from "../domain/decision.ts"
import { isRetryable, LocalCodes, ProviderError } from "../domain/errors.ts"
import type { DecideRequest } from "../domain/request.ts"
import type { StatusAnswer } from "../domain/status.ts"
import { statusOf } from "../domain/evidence.ts"
import { decisionPolicy, type Settings } from "../policy/settings.ts"
import { DecisionSharing, sharingKeys, sharingKeySecret } from "./DecisionSharing.ts"
import { ProviderGuard } from "./ProviderGuard.ts"
import { recordAttempt, recordDecision, recordProviderError } from "./metrics.ts"
import { type BindingDetail, genericActions, PrivacyNumberProvider, type ProviderActions } from "../providers/Provider.ts"

export interface EngineShape {
  /** Always succeeds, within `deadlineMs`: provider trouble becomes a degraded decision. */
  readonly decide: (request: DecideRequest) => Effect.Effect<Decision>
}

export class Engine extends Context.Service<Engine, EngineShape>()("precall/Engine") {}

/**
 * The binding's mode: as the request says, else inferred from what is known of it: an extension
 * means AXN_EXTENSION, a B party AXB, neither AXN.
 */
export const bindingMode = (
  request: DecideRequest,
  detail: BindingDetail | undefined
): BindingMode =>
  request.binding?.mode ??
    (request.extension !== undefined || detail?.extension !== undefined
      ? "AXN_EXTENSION"
      : request.binding?.phoneNoB !== undefined || detail?.phoneNoB !== undefined
      ? "AXB"
      : "AXN")

interface Parties {
  readonly phoneNoA: string | undefined
  readonly phoneNoB: string | undefined
}

/**
 * Who the real callee is: the party that is not the caller. When the caller is neither party, AXN
 * modes reach A (anyone but A who dials X reaches A); in AXB, or with the mode unknown, it stays unknown.
 */
export const realCalleeOf = (parties: Parties, callerNo: string | undefined, mode: BindingMode | undefined): string | undefined => {
  if (callerNo !== undefined && callerNo === parties.phoneNoA) return parties.phoneNoB
  if (callerNo !== undefined && callerNo === parties.phoneNoB) return parties.phoneNoA
  return mode === "AXN" || mode === "AX" || mode === "AXN_EXTENSION" ? parties.phoneNoA : undefined
}

/** The request alone says enough to bind again: A, the mode, and B where the mode needs one. */
const canRebindFromRequest = (request: DecideRequest): boolean => {
  const b = request.binding
  return b?.phoneNoA !== undefined && b.mode !== undefined && (b.mode !== "AXB" || b.phoneNoB !== undefined)
}

/** Failures after which the provider may or may not have acted. */
const outcomeUnknown = (e: ProviderError): boolean =>
  e.code === LocalCodes.timeout || e.code === LocalCodes.connection || e.code === LocalCodes.malformed || e.code.startsWith("Reply.HttpStatus")

const toFact = (e: ProviderError): FailureFact => ({ code: e.code, errorClass: e.errorClass, message: e.message })

/** Mutable facts of one decision; written by one fiber, read once at the end. */
interface Gathered {
  answer: StatusAnswer | undefined
  failure: ProviderError | undefined
  realCallee: string | undefined
  rebind: RebindFact | undefined
  detail: Option.Option<BindingDetail> | undefined
  fromCache: boolean
  attempts: number
  requestIds: Array<string>
}

/** Records the attempt's duration and, on failure, its provider code. */
const measured = (providerName: string, action: string) => <A>(attempt: Effect.Effect<A, ProviderError>) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const exit = yield* Effect.exit(attempt)
    yield* recordAttempt(providerName, action, (yield* Clock.currentTimeMillis) - start)
    if (exit._tag === "Failure") {
      const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
      if (failure !== undefined) yield* recordProviderError(failure.error)
    }
    return yield* exit
  })

export const makeEngine = (settings: Settings) =>
  Effect.gen(function*() {
    const provider = yield* PrivacyNumberProvider
    const actions: ProviderActions = { ...genericActions, ...provider.actions }
    const guard = yield* ProviderGuard
    const sharing = yield* DecisionSharing
    const { statusKey, requestKey } = sharingKeys(sharingKeySecret(settings))
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
     * One decision within `budgetMs` (the deadline, or what a coalesced request has left of it), from
     * a reusable status-1 answer when one is at hand, else from the provider.
     */
    const decideOne = (
      request: DecideRequest,
      budgetMs: number,
      cacheKey: string,
      cached: StatusAnswer | undefined,
      arrivedAt: number
    ) =>
      Effect.gen(function*() {
        const deadlineAt = (yield* Clock.currentTimeMillis) + budgetMs
        const g: Gathered = {
          answer: undefined, failure: undefined, realCallee: request.realCallee, rebind: undefined, detail: undefined,
          fromCache: false, attempts: 0, requestIds: []
        }

        /**
         * One provider action with per-attempt timeout and class-aware retries. A non-idempotent action
         * (Bind*) is retried only when the provider said it did not act; after a timeout, a reset or an
         * unreadable reply the binding may exist, and a retry would make a second one.
         */
        const call = <A extends { readonly requestId: string | undefined }>(
          action: string,
          effect: Effect.Effect<A, ProviderError>,
          idempotent = true
        ) => {
          const attempt = Effect.suspend(() => {
            g.attempts++
            return effect
          }).pipe(
            Effect.timeoutOrElse({
              duration: attemptTimeout,
              orElse: () => Effect.fail(new ProviderError({
                provider: provider.name, action, code: LocalCodes.timeout, errorClass: "transient",
                message: `no reply within ${settings.attemptTimeoutMs} ms`
              }))
            }),
            measured(provider.name, action)
          )
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            guard.run({ provider: provider.name, endpoint: provider.endpoint, action, budgetMs: deadlineAt - now }, attempt)
          ).pipe(
            Effect.tap((a) => Effect.sync(() => a.requestId !== undefined && g.requestIds.push(a.requestId))),
            Effect.tapError((e) => Effect.sync(() => {
              g.failure = e
              if (e.requestId !== undefined) g.requestIds.push(e.requestId)
            })),
            Effect.retry({
              schedule: backoff,
              times: settings.maxAttempts - 1,
              while: (e) => isRetryable(e.errorClass) && (idempotent || !outcomeUnknown(e))
            })
          )
        }

        const ref = { poolKey: request.poolKey, subsId: request.subsId, phoneNoX: request.phoneNoX }
        /** The binding's detail, asked for at most once and only when a fallback or rebind needs it. */
        const detail = Effect.suspend(() =>
          g.detail !== undefined
            ? Effect.succeed(g.detail)
            : call(actions.bindingDetail, provider.bindingDetail(ref)).pipe(
              Effect.option,
              Effect.tap((d) => Effect.sync(() => (g.detail = d)))
            )
        )
        /** The real callee: from the request's parties when they tell, else from the binding's detail. */
        const learnRealCallee = Effect.gen(function*() {
          if (!policy.allowRealFallback || g.realCallee !== undefined) return
          const known = request.binding
          if (known !== undefined) {
            g.realCallee = realCalleeOf({ phoneNoA: known.phoneNoA, phoneNoB: known.phoneNoB }, request.callerNo, known.mode)
            if (g.realCallee !== undefined) return
          }
          const d = yield* detail
          if (Option.isSome(d)) g.realCallee = realCalleeOf(d.value, request.callerNo, bindingMode(request, d.value))
        })

        const rebind = Effect.gen(function*() {
          const known = request.binding
          // What the request leaves out (B, the mode) comes from the detail: guessing it would rebind an AXB pair as AXN.
          const d = canRebindFromRequest(request) ? undefined : Option.getOrUndefined(yield* detail)
          const phoneNoA = known?.phoneNoA ?? d?.phoneNoA
          if (phoneNoA === undefined) {
            g.rebind = { _tag: "Failed", failure: g.failure === undefined ? undefined : toFact(g.failure), why: "the binding's parties are unknown" }
            return
          }
          const now = yield* Clock.currentTimeMillis
          const mode = bindingMode(request, d)
          const bound = yield* call(actions.bind(mode), provider.bind({
            poolKey: request.poolKey, mode, phoneNoA, phoneNoB: known?.phoneNoB ?? d?.phoneNoB,
            expiresAt: now + settings.bindingTtlS * 1000
          }), false).pipe(Effect.result)
          g.rebind = bound._tag === "Success"
            ? { _tag: "Bound", subsId: bound.success.subsId, phoneNoX: bound.success.phoneNoX, extension: bound.success.extension }
            : { _tag: "Failed", failure: toFact(bound.failure), why: "the provider refused the new binding" }
        })

        const pipeline = Effect.gen(function*() {
          if (cached !== undefined) {
            g.answer = cached
            g.fromCache = true
            return
          }
          const query = { ...ref, callerNo: request.callerNo }
          const asked: Effect.Effect<StatusAnswer, ProviderError> = "queryCallStatus" in provider
            ? provider.queryCallStatus(query)
            : Effect.map(provider.evidence(query), (e) => ({
              status: statusOf(e.verdict), calledNo: "calledNo" in e.verdict ? e.verdict.calledNo : undefined,
              extension: "extension" in e.verdict ? e.verdict.extension : undefined, requestId: e.requestId
            }))
          const answer = yield* call(actions.queryCallStatus, asked).pipe(Effect.option)
          if (Option.isNone(answer)) return
          g.answer = answer.value
          g.failure = undefined
          yield* sharing.offerStatus(cacheKey, answer.value)
          const status = answer.value.status
          if (status === 4) {
            yield* rebind
            if (g.rebind?._tag !== "Bound") yield* learnRealCallee
          } else if (status === 3 || (status === 2 && !answer.value.calledNo)) {
            yield* learnRealCallee
          }
        })

        const timedOut = Option.isNone(yield* Effect.timeoutOption(pipeline, Duration.millis(Math.max(0, budgetMs))))
        const facts: DecisionFacts = {
          subsId: request.subsId, phoneNoX: request.phoneNoX, extension: request.extension, answer: g.answer,
          failure: g.failure === undefined ? undefined : toFact(g.failure), timedOut, realCallee: g.realCallee, rebind: g.rebind,
          fromCache: g.fromCache
        }
        const ended = yield* Clock.currentTimeMillis
        const decision = {
          ...decide(facts, policy),
          poolKey: request.poolKey, attempts: g.attempts, elapsedMs: ended - arrivedAt, requestIds: g.requestIds
        } as Decision
        yield* recordDecision(decision)
        return decision
      })

    return Engine.of({
      // A reusable answer needs no provider call, so it is looked up before coalescing: only the
      // requests that will call the provider wait for each other.
      // The deadline counts from arrival: the time the lookup took comes off the budget.
      decide: (request) =>
        Effect.gen(function*() {
          const arrivedAt = yield* Clock.currentTimeMillis
          const cacheKey = statusKey(request.poolKey, request.subsId, request.callerNo)
          const cached = yield* sharing.cachedStatus(cacheKey)
          const left = settings.deadlineMs - ((yield* Clock.currentTimeMillis) - arrivedAt)
          return yield* cached !== undefined
            ? decideOne(request, left, cacheKey, cached, arrivedAt)
            : sharing.coalesce(requestKey(request), left, (budgetMs) => decideOne(request, budgetMs, cacheKey, undefined, arrivedAt))
        })
    })
  })

export const engineLayer = (settings: Settings): Layer.Layer<Engine, never, PrivacyNumberProvider> =>
  Layer.effect(Engine, makeEngine(settings))
