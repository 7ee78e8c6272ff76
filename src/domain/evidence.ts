/**
 * Evidence about a binding, whatever the provider: what its own pure table concluded (the verdict)
 * and what it was read from (the source, named in the decision's reason). A pulled QueryCallStatus
 * answer, a binding query, an X status push and a window of call outcomes all end up here, so the
 * engine reads one value and never a provider's vocabulary.
 */
import type { CallStatus, StatusAnswer } from "./status.ts"

/**
 * - UseX: the binding works (status 1); `calledNo` is the number to dial when the provider gave one
 * - TemporaryX: the platform itself assigned a temporary X (status 2, Aliyun only)
 * - NothingDialable: nothing on this provider can be dialled (status 3: a call fault without a
 *   temporary X, an account frozen)
 * - Expired: the binding is gone (status 4): bind the same parties again
 * - XBroken: the X itself does not work: bind the same parties on another X; `temporary` when the
 *   break looks short-lived (a short second binding is then the closest thing to a temporary X)
 */
export type Verdict =
  | { readonly _tag: "UseX"; readonly calledNo?: string | undefined; readonly extension?: string | undefined }
  | { readonly _tag: "TemporaryX"; readonly calledNo: string; readonly extension?: string | undefined }
  | { readonly _tag: "NothingDialable" }
  | { readonly _tag: "Expired" }
  | { readonly _tag: "XBroken"; readonly temporary: boolean }

export interface Evidence {
  readonly verdict: Verdict
  /** What the verdict was read from, in words for the reason: "QueryCallStatus", "binding query: expired", ... */
  readonly source: string
  readonly requestId: string | undefined
  /** True when the verdict may be reused for a short time (a pulled status 1); pushed evidence is read fresh. */
  readonly reusable: boolean
  /** The status the provider itself gave, when it gave one (a status 2 without a number is read as nothing dialable). */
  readonly status?: CallStatus | undefined
}

/** The Aliyun QueryCallStatus answer each verdict corresponds to: the `status` a decision reports when the provider gave none. */
export const statusOf = (v: Verdict): CallStatus => {
  switch (v._tag) {
    case "UseX":
      return 1
    case "TemporaryX":
      return 2
    case "NothingDialable":
    case "XBroken":
      return 3
    case "Expired":
      return 4
  }
}

/**
 * The table of a provider that answers status 1-4 itself (QueryCallStatus). `normalizeStatus` has
 * already turned a status 2 without a number and any unknown status into 3.
 */
export const evidenceOfStatus = (answer: StatusAnswer, source: string): Evidence => {
  const base = { source, requestId: answer.requestId, status: answer.status }
  switch (answer.status) {
    case 1:
      return { ...base, reusable: true, verdict: { _tag: "UseX", calledNo: answer.calledNo, extension: answer.extension } }
    case 2:
      return answer.calledNo !== undefined && answer.calledNo !== ""
        ? { ...base, reusable: false, verdict: { _tag: "TemporaryX", calledNo: answer.calledNo, extension: answer.extension } }
        : { ...base, reusable: false, verdict: { _tag: "NothingDialable" } }
    case 3:
      return { ...base, reusable: false, verdict: { _tag: "NothingDialable" } }
    case 4:
      return { ...base, reusable: false, verdict: { _tag: "Expired" } }
  }
}
