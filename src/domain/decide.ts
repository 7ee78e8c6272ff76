/**
 * The decision table: pure, total, no I/O. The engine gathers facts (the provider's evidence and its
 * verdict, real callee, rebind outcome, last failure) and this turns them into one decision; the
 * reason always names the evidence. docs/decisions.md renders it.
 */
import type { ErrorClass } from "./errors.ts"
import type { DecisionCore, DegradedDecision } from "./decision.ts"
import { maskNumbersIn } from "./phone.ts"
import { type Evidence, statusOf } from "./evidence.ts"

/** The part of the policy that shapes the decision (timings live in policy/). */
export interface DecisionPolicy {
  /** PRECALL_ALLOW_REAL_FALLBACK: may a real number ever be dialled. */
  readonly allowRealFallback: boolean
  /** PRECALL_DEGRADED_DECISION: the answer when no status can be had. */
  readonly degradedDecision: DegradedDecision
}

export interface FailureFact {
  readonly code: string
  readonly errorClass: ErrorClass
  readonly message: string
}

export type RebindFact =
  | {
    readonly _tag: "Bound"
    /** The provider the new binding is on (another one when PRECALL_REBIND_PROVIDERS moved it). */
    readonly provider: string
    readonly subsId: string
    readonly phoneNoX: string
    readonly extension: string | undefined
    /** A short second binding standing in for a temporary X; the original binding is kept. */
    readonly temporary: boolean
    /** Why the binding's own provider could not bind, when the binding moved to another provider. */
    readonly movedBecause?: FailureFact | undefined
  }
  | { readonly _tag: "Failed"; readonly failure: FailureFact | undefined; readonly why: string }

export interface DecisionFacts {
  /** The provider the request's binding lives on. */
  readonly provider: string
  readonly subsId: string
  /** X of the binding, from the request. */
  readonly phoneNoX: string
  readonly extension: string | undefined
  /** The provider's evidence and its verdict; undefined when none came in time. */
  readonly evidence: Evidence | undefined
  /** The last provider failure, if any. */
  readonly failure: FailureFact | undefined
  /** True when the deadline cut the pipeline short. */
  readonly timedOut: boolean
  /** The real callee, when known (from the request or the binding's detail). */
  readonly realCallee: string | undefined
  /** Outcome of the rebind for an expired binding or a broken X; undefined when none was tried. */
  readonly rebind: RebindFact | undefined
  /** True when the status-1 evidence was reused from the status cache instead of asked for. */
  readonly fromCache?: boolean
}

const failureText = (f: FailureFact | undefined): string =>
  f === undefined ? "" : `: ${f.code} (${f.errorClass}) ${maskNumbersIn(f.message)}`

type Base = { status: DecisionCore["status"]; source: DecisionCore["source"]; providerCode: string | null; provider: string }

/** Dial the real callee when the policy allows it and the callee is known; refuse otherwise. */
const realOrRefuse = (facts: DecisionFacts, policy: DecisionPolicy, base: Base, why: string): DecisionCore => {
  if (policy.allowRealFallback && facts.realCallee !== undefined) {
    return { decision: "fallback-real", dial: facts.realCallee, extension: null, subsId: null, ...base, reason: `${why}; dialling the real callee` }
  }
  const because = policy.allowRealFallback ? "the real callee is unknown" : "real-number fallback is not allowed by policy"
  return { decision: "refuse", dial: null, extension: null, subsId: null, ...base, reason: `${why}; refused: ${because}` }
}

const degraded = (facts: DecisionFacts, policy: DecisionPolicy): DecisionCore => {
  const why = facts.timedOut && facts.failure === undefined
    ? "no provider answer within the deadline"
    : `no provider answer${facts.timedOut ? " within the deadline" : ""}${failureText(facts.failure)}`
  const base = { status: null, source: "degraded" as const, providerCode: facts.failure?.code ?? null, provider: facts.provider }
  switch (policy.degradedDecision) {
    case "use-x":
      return { decision: "use-x", dial: facts.phoneNoX, extension: facts.extension ?? null, subsId: facts.subsId, ...base, reason: `${why}; degraded to use-x` }
    case "fallback-real":
      return realOrRefuse(facts, policy, base, `${why}; degraded to fallback-real`)
    case "refuse":
      return { decision: "refuse", dial: null, extension: null, subsId: null, ...base, reason: `${why}; degraded to refuse` }
  }
}

/** Where a new binding came from, for the reason. */
const boundText = (facts: DecisionFacts, rebind: Extract<RebindFact, { _tag: "Bound" }>): string =>
  rebind.provider === facts.provider
    ? ""
    : ` on ${rebind.provider} (${facts.provider} could not bind${failureText(rebind.movedBecause)})`

/** After an expired binding or a broken X: dial the new binding, else the real callee or nothing. */
const afterRebind = (facts: DecisionFacts, policy: DecisionPolicy, status: 3 | 4, what: string): DecisionCore => {
  const rebind = facts.rebind
  const base = { status, source: "provider" as const, provider: facts.provider }
  if (rebind?._tag === "Bound") {
    const common = {
      dial: rebind.phoneNoX, extension: rebind.extension ?? null, subsId: rebind.subsId, ...base,
      status: rebind.temporary ? 2 as const : status, provider: rebind.provider, providerCode: null
    }
    return rebind.temporary
      ? { decision: "use-temporary-x", ...common, reason: `${what}; made a short second binding on another X as a temporary X${boundText(facts, rebind)}` }
      : { decision: "rebind", ...common, previousSubsId: facts.subsId, reason: `${what}; made a new binding${boundText(facts, rebind)}` }
  }
  const why = rebind === undefined
    ? `${what}, no rebind${facts.timedOut ? " within the deadline" : " was possible"}`
    : `${what}, rebind failed: ${rebind.why}${failureText(rebind.failure)}`
  return realOrRefuse(facts, policy, { ...base, providerCode: rebind?._tag === "Failed" ? rebind.failure?.code ?? null : null }, why)
}

export const decide = (facts: DecisionFacts, policy: DecisionPolicy): DecisionCore => {
  const evidence = facts.evidence
  if (evidence === undefined) return degraded(facts, policy)
  const verdict = evidence.verdict
  const status = evidence.status ?? statusOf(verdict)
  const source = facts.fromCache === true ? "cache" as const : "provider" as const
  const base = { status, source, provider: facts.provider, providerCode: null }
  const from = facts.fromCache === true ? `${evidence.source}, reused from the status cache` : evidence.source
  switch (verdict._tag) {
    case "UseX":
      return {
        decision: "use-x", dial: verdict.calledNo || facts.phoneNoX, extension: verdict.extension ?? facts.extension ?? null,
        subsId: facts.subsId, ...base, reason: `status 1 (${from}): binding normal, dialling X`
      }
    case "TemporaryX":
      return {
        decision: "use-temporary-x", dial: verdict.calledNo, extension: verdict.extension ?? null, subsId: facts.subsId,
        ...base, reason: `status 2 (${from}): the platform assigned a temporary X`
      }
    case "NothingDialable":
      return realOrRefuse(facts, policy, base, `status ${status} (${from}): no X can carry the call`)
    case "Expired":
      return afterRebind(facts, policy, 4, `status 4 (${from}): binding expired`)
    case "XBroken":
      return afterRebind(facts, policy, 3, `status 3 (${from}): X broken`)
  }
}
