/**
 * Aliyun's evidence table: pure, one function per source. A QueryCallStatus answer is read through
 * the neutral status table; without QueryCallStatus (withdrawn from Aliyun's current catalogue,
 * shared/providers/aliyun.md §6) the status is derived from QuerySubscriptionDetail (`Status` 0:
 * expired) and QuerySecretNoDetail (`SecretStatus` 2 locked / 3 frozen: the X is broken).
 */
import { type Evidence, evidenceOfStatus } from "../../domain/evidence.ts"
import { normalizeStatus } from "../../domain/status.ts"

/** A QueryCallStatus reply, as Aliyun sent it. */
export interface CallStatusReply {
  readonly status: number
  readonly calledNo: string | undefined
  readonly extension: string | undefined
  readonly requestId: string | undefined
}

export const evidenceOfCallStatus = (r: CallStatusReply): Evidence =>
  evidenceOfStatus({ status: normalizeStatus(r.status, r.calledNo), calledNo: r.calledNo, extension: r.extension, requestId: r.requestId }, "QueryCallStatus")

/** A binding-class error on QueryCallStatus (isv.SUBS_NOT_EXIST, "binding expired"): the binding is dead (aliyun.md §7). */
export const evidenceOfDeadBinding = (code: string, requestId: string | undefined): Evidence => ({
  verdict: { _tag: "Expired" }, source: `QueryCallStatus: ${code}`, requestId, reusable: false
})

/** What QuerySubscriptionDetail said of the binding: its `Status` and X, or that it does not exist. */
export type SubscriptionFact =
  | { readonly _tag: "Found"; readonly status: number; readonly phoneNoX: string; readonly extension: string | undefined }
  | { readonly _tag: "Gone"; readonly code: string }

/** QuerySecretNoDetail's `SecretStatus` (0 unbound, 1 bound, 2 locked, 3 frozen); undefined when it could not be had. */
export type SecretStatusFact = number | undefined

const secretWords: Readonly<Record<number, string>> = { 0: "unbound", 1: "bound", 2: "locked", 3: "frozen" }

/**
 * The derived table, first match wins:
 * 1. no such binding, or `Status` 0 → expired: bind the parties again
 * 2. X `SecretStatus` 2 (locked) or 3 (frozen) → X broken: bind again on another X (Aliyun gives no temporary X)
 * 3. X `SecretStatus` 0 (unbound) while the binding claims to be in effect → the X no longer carries it: bind again
 * 4. otherwise (in effect, X bound or its state unknown) → use X
 */
export const derivedEvidence = (binding: SubscriptionFact, secret: SecretStatusFact, requestId: string | undefined): Evidence => {
  const base = { requestId, reusable: false }
  if (binding._tag === "Gone") return { ...base, verdict: { _tag: "Expired" }, source: `binding query: ${binding.code}` }
  if (binding.status !== 1) return { ...base, verdict: { _tag: "Expired" }, source: `binding query: expired (Status ${binding.status})` }
  const xText = secret === undefined ? "X state unknown" : `X ${secretWords[secret] ?? "in an unknown state"} (SecretStatus ${secret})`
  const source = `binding query: in effect; ${xText}`
  if (secret === 2 || secret === 3) return { ...base, verdict: { _tag: "XBroken", temporary: false }, source }
  if (secret === 0) return { ...base, verdict: { _tag: "Expired" }, source }
  return { requestId, reusable: true, verdict: { _tag: "UseX", calledNo: binding.phoneNoX, extension: binding.extension }, source }
}

/** Aliyun's gateway answer for an action it does not serve. */
export const isNotServed = (code: string): boolean => code === "InvalidAction.NotFound" || code === "InvalidApi.NotFound"
