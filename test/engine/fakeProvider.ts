/**
 * A scripted PrivacyNumberProvider for engine tests. Every call takes the next outcome of its action's
 * script (then `exhausted` forever): a success or a ProviderError after an optional delay on the clock,
 * or a call that never ends. Every call is logged with its start and end time on the (Test)Clock.
 */
import { Clock, Effect, Exit } from "effect"
import { type ErrorClass, ProviderError } from "../../src/domain/errors.ts"
import type { StatusAnswer } from "../../src/domain/status.ts"
import {
  type BindingDetail,
  type BindingRef,
  type BindRequest,
  type NewBinding,
  PrivacyNumberProvider,
  type ProviderShape,
  type StatusQuery
} from "../../src/providers/Provider.ts"

export type Action = "QueryCallStatus" | "QuerySubscriptionDetail" | "Bind"
export const ACTIONS: ReadonlyArray<Action> = ["QueryCallStatus", "QuerySubscriptionDetail", "Bind"]

export interface FailSpec {
  readonly errorClass: ErrorClass
  readonly code: string
  readonly message?: string
  readonly retryAfterMs?: number
}

export type Outcome<A> =
  | { readonly _tag: "ok"; readonly value: A; readonly delayMs: number }
  | { readonly _tag: "fail"; readonly error: FailSpec; readonly delayMs: number }
  | { readonly _tag: "hang" }

export const ok = <A>(value: A, delayMs = 0): Outcome<A> => ({ _tag: "ok", value, delayMs })
export const fail = <A = never>(error: FailSpec, delayMs = 0): Outcome<A> => ({ _tag: "fail", error, delayMs })
export const hang: Outcome<never> = { _tag: "hang" }

export interface ActionScript<A> {
  readonly outcomes: ReadonlyArray<Outcome<A>>
  readonly exhausted: Outcome<A>
}

export interface Script {
  readonly status: ActionScript<Omit<StatusAnswer, "requestId">>
  readonly detail: ActionScript<Omit<BindingDetail, "requestId">>
  readonly bind: ActionScript<Omit<NewBinding, "requestId">>
}

export interface CallRecord {
  readonly action: Action
  /** 0-based index of this call among the calls of its action. */
  readonly index: number
  readonly start: number
  end: number | undefined
  /** `ok` / `fail`: the fake completed; `interrupted`: the engine gave up on it (attempt timeout or deadline). */
  result: "ok" | "fail" | "interrupted" | undefined
  readonly outcome: Outcome<unknown>
  readonly requestId: string
  readonly input: StatusQuery | BindingRef | BindRequest
}

export const defaultCodes: Readonly<Record<ErrorClass, string>> = {
  transient: "isp.SYSTEM_ERROR",
  throttled: "isv.FLOW_LIMIT",
  binding: "isv.BIND_CONFLICT",
  pool: "isv.NO_AVAILABLE_NUMBER",
  configuration: "isv.OUT_OF_SERVICE",
  "bad-input": "isv.ILLEGAL_ARGUMENT",
  local: "Local.RateLimited"
}

export const failWith = (errorClass: ErrorClass, extra: Partial<FailSpec> = {}): FailSpec => ({
  errorClass,
  code: defaultCodes[errorClass],
  ...extra
})

export const script = (parts: {
  readonly status?: ReadonlyArray<Outcome<Omit<StatusAnswer, "requestId">>>
  readonly detail?: ReadonlyArray<Outcome<Omit<BindingDetail, "requestId">>>
  readonly bind?: ReadonlyArray<Outcome<Omit<NewBinding, "requestId">>>
  readonly exhausted?: Outcome<never>
}): Script => ({
  status: { outcomes: parts.status ?? [], exhausted: parts.exhausted ?? hang },
  detail: { outcomes: parts.detail ?? [], exhausted: parts.exhausted ?? hang },
  bind: { outcomes: parts.bind ?? [], exhausted: parts.exhausted ?? hang }
})

export const makeFakeProvider = (s: Script) => {
  const log: Array<CallRecord> = []
  let seq = 0
  const counts: Record<Action, number> = { QueryCallStatus: 0, QuerySubscriptionDetail: 0, Bind: 0 }

  const run = <A>(action: Action, input: CallRecord["input"], sc: ActionScript<A>): Effect.Effect<A & { readonly requestId: string }, ProviderError> =>
    Effect.suspend(() => {
      const index = counts[action]++
      const outcome = sc.outcomes[index] ?? sc.exhausted
      const requestId = `rid-${++seq}`
      return Effect.flatMap(Clock.currentTimeMillis, (start) => {
        const record: CallRecord = { action, index, start, end: undefined, result: undefined, outcome, requestId, input }
        log.push(record)
        const body: Effect.Effect<A & { readonly requestId: string }, ProviderError> = outcome._tag === "hang"
          ? Effect.never
          : outcome._tag === "ok"
          ? Effect.as(Effect.sleep(outcome.delayMs), { ...outcome.value, requestId })
          : Effect.andThen(
            Effect.sleep(outcome.delayMs),
            Effect.fail(
              new ProviderError({
                provider: "fake",
                action,
                code: outcome.error.code,
                errorClass: outcome.error.errorClass,
                message: outcome.error.message ?? `scripted ${outcome.error.errorClass}`,
                requestId,
                ...(outcome.error.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.error.retryAfterMs })
              })
            )
          )
        return body.pipe(
          Effect.onExit((exit) =>
            Effect.map(Clock.currentTimeMillis, (end) => {
              record.end = end
              record.result = Exit.isSuccess(exit) ? "ok" : Exit.hasInterrupts(exit) ? "interrupted" : "fail"
            })
          )
        )
      })
    })

  const provider: ProviderShape = {
    name: "fake",
    endpoint: "fake://provider",
    queryCallStatus: (q) => run("QueryCallStatus", q, s.status),
    bindingDetail: (ref) => run("QuerySubscriptionDetail", ref, s.detail),
    bind: (r) => run("Bind", r, s.bind)
  }
  return { provider: PrivacyNumberProvider.of(provider), log }
}
