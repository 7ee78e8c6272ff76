/**
 * Who a binding joins and who the real callee of a call on it is: pure rules the engine applies to
 * what the request says and what the provider says of the binding. A callee found from the request
 * alone is a number the request itself gave; once the provider's detail is consulted its parties and
 * mode win, so a request cannot talk its way to someone else's real number (issue 8).
 */
import type { BindingMode } from "./binding.ts"

export interface Parties {
  readonly phoneNoA: string | undefined
  readonly phoneNoB: string | undefined
  readonly mode: BindingMode
}

export interface KnownParties {
  readonly phoneNoA?: string | undefined
  readonly phoneNoB?: string | undefined
  readonly mode?: BindingMode | undefined
}

export interface DetailParties {
  readonly phoneNoA: string | undefined
  readonly phoneNoB: string | undefined
  readonly extension: string | undefined
  readonly mode?: BindingMode | undefined
}

/** The mode a binding's shape implies: an extension means AXN_EXTENSION, a B party AXB, neither AXN. */
const impliedMode = (extension: string | undefined, phoneNoB: string | undefined): BindingMode =>
  extension !== undefined ? "AXN_EXTENSION" : phoneNoB !== undefined ? "AXB" : "AXN"

/** The parties as the provider's detail gives them: its mode, or a B party means AXB, whatever the request said. */
export const partiesOfDetail = (detail: DetailParties): Parties => ({
  phoneNoA: detail.phoneNoA,
  phoneNoB: detail.phoneNoB,
  mode: detail.mode ?? impliedMode(detail.extension, detail.phoneNoB)
})

/** The parties as the request gives them, the mode inferred from them when it names none. */
export const partiesOfRequest = (request: KnownParties | undefined, requestExtension: string | undefined): Parties => ({
  phoneNoA: request?.phoneNoA,
  phoneNoB: request?.phoneNoB,
  mode: request?.mode ?? impliedMode(requestExtension, request?.phoneNoB)
})

/**
 * The request alone is enough to bind again: it names A, the mode, and B where the mode needs one.
 * Otherwise the provider's detail decides the parties and the mode, so an AXB pair is never bound
 * again as AXN on the request's say-so.
 */
export const requestCanBind = (request: KnownParties | undefined): boolean =>
  request?.phoneNoA !== undefined && request.mode !== undefined && (request.mode !== "AXB" || request.phoneNoB !== undefined)

/**
 * The real callee: the party that is not the caller. In AXB that holds only when the caller is one of
 * the two parties: a stranger (or an unknown caller) has no callee, and gets no real number. In AX,
 * AXN and AXN_EXTENSION anyone but A who dials X reaches A.
 */
export const realCalleeOf = (parties: Parties, callerNo: string | undefined): string | undefined => {
  if (callerNo !== undefined && callerNo === parties.phoneNoA) return parties.phoneNoB
  if (callerNo !== undefined && callerNo === parties.phoneNoB) return parties.phoneNoA
  return parties.mode === "AXB" ? undefined : parties.phoneNoA
}

/** Enough to bind again: A, and B where the mode needs one. */
export const canBind = (parties: Parties): parties is Parties & { readonly phoneNoA: string } =>
  parties.phoneNoA !== undefined && (parties.mode !== "AXB" || parties.phoneNoB !== undefined)
