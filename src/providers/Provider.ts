/**
 * The one interface every privacy-number provider adapter implements. The engine depends on this
 * interface only, never on a provider's module, and several providers can be configured at once
 * (`PrivacyNumberProvider` is the default one, `MoreProviders` the others; a request names its own).
 *
 * Each method is one attempt: the engine owns retries, timeouts, limits, the breaker and the
 * deadline. Status comes as evidence read through the provider's own pure table (Aliyun:
 * providers/aliyun/evidence.ts, Huawei: providers/huawei/evidence.ts): a pull-based provider asks
 * its API; a push-based one reads what its pushes and call outcomes left in the evidence store and
 * calls out only when that is missing or stale. A provider that answers status 1-4 itself may offer
 * `queryCallStatus` instead, read through the neutral table `evidenceOfStatus`.
 *
 * Gathering evidence never makes a binding: every new binding (a rebind, a Huawei "temporary X"
 * second binding) goes through `bind`, where the engine applies limits and the breaker and never
 * retries a call whose outcome is unknown.
 */
import { Context, type Effect } from "effect"
import type { BindingMode } from "../domain/binding.ts"
import type { ProviderError } from "../domain/errors.ts"
import type { Evidence } from "../domain/evidence.ts"
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
  /** The mode, when the provider tells it (Huawei: by the API that answered); else inferred from the parties. */
  readonly mode?: BindingMode | undefined
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
  /** X numbers the new binding must not use (the broken X being moved away from). */
  readonly avoidX?: ReadonlyArray<string> | undefined
  /**
   * The X of the expired binding this one replaces. A provider whose X numbers carry many bindings
   * may bind on it again, so the parties keep the number they know (Huawei §6 rule 2, when that X is
   * healthy); others ignore it.
   */
  readonly previousX?: string | undefined
  /** A short-lived second binding standing in for a temporary X; the original binding is kept. */
  readonly temporary?: boolean | undefined
}

export interface NewBinding {
  readonly subsId: string
  readonly phoneNoX: string
  readonly extension: string | undefined
  readonly requestId: string | undefined
}

/** The provider's own names for its actions: what limits, metrics and errors are keyed by. */
export interface ProviderActions {
  /** The action (or local lookup) behind `evidence` / `queryCallStatus`. */
  readonly queryCallStatus: string
  readonly bindingDetail: string
  readonly bind: (mode: BindingMode) => string
  readonly unbind: string
}

/** Used for whatever a provider does not name. */
export const genericActions: ProviderActions = {
  queryCallStatus: "QueryCallStatus",
  bindingDetail: "QuerySubscriptionDetail",
  bind: () => "Bind",
  unbind: "Unbind"
}

interface ProviderBase {
  /** Short provider name, e.g. `aliyun`, `huawei`: what requests name, and the key of errors, metrics and logs. */
  readonly name: string
  /** Where its calls go, e.g. the endpoint URL: the key for per-endpoint breakers and limits. */
  readonly endpoint: string
  /**
   * The pool a binding moved here from another provider goes into (PRECALL_REBIND_PROVIDERS): the
   * request's pool key names a pool of the binding's own provider. Providers without pools leave it out.
   */
  readonly rebindPoolKey?: string | undefined
  /** Names of its actions; quotas are per action (Aliyun: BindAxb, BindAxn, BindAxnExtension each have their own). */
  readonly actions?: Partial<ProviderActions> | undefined
  readonly bindingDetail: (ref: BindingRef) => Effect.Effect<BindingDetail, ProviderError>
  readonly bind: (request: BindRequest) => Effect.Effect<NewBinding, ProviderError>
  /**
   * Removes a binding the engine moved away from (Huawei AX bindings never expire). Optional: a
   * provider whose bindings expire on their own may leave it out.
   */
  readonly unbind?: ((ref: BindingRef) => Effect.Effect<void, ProviderError>) | undefined
}

/** A provider with its own evidence and table. */
export interface EvidenceProvider extends ProviderBase {
  readonly evidence: (query: StatusQuery) => Effect.Effect<Evidence, ProviderError>
}

/** A provider that answers status 1-4 itself. */
export interface StatusProvider extends ProviderBase {
  readonly queryCallStatus: (query: StatusQuery) => Effect.Effect<StatusAnswer, ProviderError>
}

export type ProviderShape = EvidenceProvider | StatusProvider

/** The default provider: requests that name none are decided on it. */
export class PrivacyNumberProvider extends Context.Service<PrivacyNumberProvider, ProviderShape>()("precall/PrivacyNumberProvider") {}

/** Further configured providers, by their `name`; none unless the composition adds them. */
export const MoreProviders = Context.Reference<ReadonlyArray<ProviderShape>>("precall/MoreProviders", { defaultValue: () => [] })
