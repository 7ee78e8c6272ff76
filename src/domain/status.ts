/**
 * The provider's call status for a binding, in Aliyun QueryCallStatus terms (other providers map onto
 * these four answers, see docs/decisions.md).
 */
import { Schema } from "effect"

export const CallStatus = Schema.Literals([1, 2, 3, 4])
export type CallStatus = typeof CallStatus.Type

/** What a provider answered about a binding, reduced to what the decision needs. */
export interface StatusAnswer {
  readonly status: CallStatus
  /** The number to dial for 1 (X) and 2 (temporary X); absent for 3 and 4. */
  readonly calledNo: string | undefined
  readonly extension: string | undefined
  readonly requestId: string | undefined
}

/**
 * Normalises a raw status. Defensive rules (aliyun.md §7): an unknown status and a status 2 with no
 * number are both treated as 3, since neither gives a number that can be dialled.
 */
export const normalizeStatus = (status: number, calledNo: string | undefined): CallStatus => {
  if (status === 1 || status === 4) return status
  if (status === 2 && calledNo !== undefined && calledNo !== "") return 2
  return 3
}
