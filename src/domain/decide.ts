/**
 * The decision table: pure, total, no I/O. The engine gathers facts (status answer, real callee,
 * rebind outcome, last failure) and this turns them into one decision. docs/decisions.md renders it.
 */
import type { ErrorClass } from "./errors.ts"
import type { DecisionCore, DegradedDecision } from "./decision.ts"
import { maskNumbersIn } from "./phone.ts"
import type { StatusAnswer } from "./status.ts"

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
  | { readonly _tag: "Bound"; readonly subsId: string; readonly phoneNoX: string; readonly extension: string | undefined }
  | { readonly _tag: "Failed"; readonly failure: FailureFact | undefined; readonly why: string }

export interface DecisionFacts {
  readonly subsId: string
  /** X of the binding, from the request. */
  readonly phoneNoX: string
  readonly extension: string | undefined
  /** The provider's answer; undefined when none came in time. */
  readonly answer: StatusAnswer | undefined
  /** The last provider failure, if any. */
  readonly failure: FailureFact | undefined
  /** True when the deadline cut the pipeline short. */
  readonly timedOut: boolean
  /** The real callee, when known (from the request or the binding's detail). */
  readonly realCallee: string | undefined
  /** Outcome of the rebind for status 4; undefined when none was tried. */
  readonly rebind: RebindFact | undefined
  /** True when the status-1 answer was reused from the status cache instead of asked for. */
  readonly fromCache?: boolean
}

const failureText = (f: FailureFact | undefined): string =>
  f === undefined ? "" : `: ${f.code} (${f.errorClass}) ${maskNumbersIn(f.message)}`

/** Dial the real callee when the policy allows it and the callee is known; refuse otherwise. */
const realOrRefuse = (
  facts: DecisionFacts,
  policy: DecisionPolicy,
  base: { status: DecisionCore["status"]; source: DecisionCore["source"]; providerCode: string | null },
  why: string
): DecisionCore => {
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
  const base = { status: null, source: "degraded" as const, providerCode: facts.failure?.code ?? null }
  switch (policy.degradedDecision) {
    case "use-x":
      return { decision: "use-x", dial: facts.phoneNoX, extension: facts.extension ?? null, subsId: facts.subsId, ...base, reason: `${why}; degraded to use-x` }
    case "fallback-real":
      return realOrRefuse(facts, policy, base, `${why}; degraded to fallback-real`)
    case "refuse":
      return { decision: "refuse", dial: null, extension: null, subsId: null, ...base, reason: `${why}; degraded to refuse` }
  }
}

export const decide = (facts: DecisionFacts, policy: DecisionPolicy): DecisionCore => {
  const answer = facts.answer
  if (answer === undefined) return degraded(facts, policy)
  const provider = { status: answer.status, source: facts.fromCache === true ? "cache" as const : "provider" as const }
  switch (answer.status) {
    case 1:
      return {
        decision: "use-x", dial: answer.calledNo || facts.phoneNoX, extension: answer.extension ?? facts.extension ?? null,
        subsId: facts.subsId, ...provider, providerCode: null,
        reason: facts.fromCache === true ? "status 1 (reused from the status cache): binding normal, dialling X" : "status 1: binding normal, dialling X"
      }
    case 2:
      if (answer.calledNo !== undefined && answer.calledNo !== "") {
        return {
          decision: "use-temporary-x", dial: answer.calledNo, extension: answer.extension ?? null, subsId: facts.subsId,
          ...provider, providerCode: null, reason: "status 2: the platform assigned a temporary X"
        }
      }
      return realOrRefuse(facts, policy, { ...provider, providerCode: null }, "status 2 without a temporary X, treated as 3")
    case 3:
      return realOrRefuse(facts, policy, { ...provider, providerCode: null }, "status 3: no temporary X could be assigned")
    case 4: {
      const rebind = facts.rebind
      if (rebind?._tag === "Bound") {
        return {
          decision: "rebind", dial: rebind.phoneNoX, extension: rebind.extension ?? null, subsId: rebind.subsId,
          previousSubsId: facts.subsId, ...provider, providerCode: null, reason: "status 4: binding expired, made a new binding"
        }
      }
      const why = rebind === undefined
        ? `status 4: binding expired, no rebind${facts.timedOut ? " within the deadline" : " was possible"}`
        : `status 4: binding expired, rebind failed: ${rebind.why}${failureText(rebind.failure)}`
      return realOrRefuse(facts, policy, { ...provider, providerCode: rebind?._tag === "Failed" ? rebind.failure?.code ?? null : null }, why)
    }
  }
}
