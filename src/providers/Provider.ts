/**
 * The one interface every privacy-number provider adapter implements. The engine depends on this
 * service only, never on a provider's module.
 *
 * Each method is one attempt: the engine owns retries, timeouts and the deadline. A pull-based
 * provider (Aliyun QueryCallStatus) answers `queryCallStatus` with a network call; a push-based one
 * (Huawei number-status pushes, see shared/providers/huawei.md §6) answers it from the evidence its
 * pushes and CDRs left in its own store, and calls out only when that evidence is missing or stale.
 */
import { Context, type Effect } from "effect"
import type { BindingMode } from "../domain/binding.ts"
import type { ProviderError } from "../domain/errors.ts"
import type { StatusAnswer } from "../domain/status.ts"

export interface StatusQuery {
  readonly poolKey: string
  readonly subsId: string
  readonly phoneNoX: string
  readonly callerNo: string | undefined
}

export interface BindingRef {
  readonly poolKey: string
  readonly subsId: string
  readonly phoneNoX: string
}

/** What the provider knows of a binding; it still answers for expired bindings (`active: false`). */
export interface BindingDetail {
  readonly subsId: string
  readonly phoneNoA: string | undefined
  readonly phoneNoB: string | undefined
  readonly phoneNoX: string
  readonly extension: string | undefined
  readonly active: boolean
  readonly requestId: string | undefined
}

export interface BindRequest {
  readonly poolKey: string
  readonly mode: BindingMode
  readonly phoneNoA: string
  readonly phoneNoB: string | undefined
  /** Expiry as epoch milliseconds; the adapter renders it the provider's way. */
  readonly expiresAt: number
  /** For AXN_EXTENSION only: an X and extension to reuse. */
  readonly phoneNoX?: string | undefined
  readonly extension?: string | undefined
}

export interface NewBinding {
  readonly subsId: string
  readonly phoneNoX: string
  readonly extension: string | undefined
  readonly requestId: string | undefined
}

/** The provider's own names for its actions: what limits, metrics and errors are keyed by. */
export interface ProviderActions {
  readonly queryCallStatus: string
  readonly bindingDetail: string
  readonly bind: (mode: BindingMode) => string
}

/** Used for whatever a provider does not name. */
export const genericActions: ProviderActions = {
  queryCallStatus: "QueryCallStatus",
  bindingDetail: "QuerySubscriptionDetail",
  bind: () => "Bind"
}

export interface ProviderShape {
  /** Short provider name, e.g. `aliyun`: used in errors, metrics and logs. */
  readonly name: string
  /** Where its calls go, e.g. the endpoint URL: the key for per-endpoint breakers and limits. */
  readonly endpoint: string
  /** Names of its actions; quotas are per action (Aliyun: BindAxb, BindAxn, BindAxnExtension each have their own). */
  readonly actions?: Partial<ProviderActions> | undefined
  readonly queryCallStatus: (query: StatusQuery) => Effect.Effect<StatusAnswer, ProviderError>
  readonly bindingDetail: (ref: BindingRef) => Effect.Effect<BindingDetail, ProviderError>
  readonly bind: (request: BindRequest) => Effect.Effect<NewBinding, ProviderError>
}

export class PrivacyNumberProvider extends Context.Service<PrivacyNumberProvider, ProviderShape>()("precall/PrivacyNumberProvider") {}
