/**
 * What a Huawei privacy-call push teaches the evidence store (shared/providers/huawei.md §4):
 * `numStatus` items become X status, a `disconnect` event and every `fee` CDR become a call outcome
 * on their X and binding. The push is already verified and parsed (src/providers/huawei/pushes.ts);
 * the types here name only the wire fields used, so any parse with the wire's field names fits.
 *
 * Re-pushes (the platform repeats a call event or CDR up to 6 times when unacknowledged) are counted
 * once: each call event and CDR has an identity (`sessionId` + event type, `sessionId` + `icid`) that
 * the store remembers for longer than the whole re-push schedule.
 */
import type { Result } from "effect"
import { Effect } from "effect"
import type { Headers } from "effect/http"
import { classifyForwardedQ850, type OutcomeClass } from "../../evidence/classes.ts"
import type { EvidenceStoreShape, XAvailability } from "../../evidence/EvidenceStore.ts"
import type { StateCodeTable } from "../../evidence/outcomes.ts"
import type { HuaweiApp, VerifiedToken } from "./signature.ts"

export const HUAWEI = "huawei"

/** Longer than the re-push schedule (1 + 4 + 9 + 106 + 203 + 300 minutes after the first try). */
export const pushIdentityTtlMs = 12 * 3600 * 1000

export interface NumStatusItem {
  readonly number: string
  readonly status: string
  readonly cause?: string | undefined
}

export interface CallEventInfo {
  readonly sessionId: string
  readonly timestamp?: string | undefined
  readonly subscriptionId?: string | undefined
  readonly stateCode?: number | undefined
}

export interface FeeItem {
  readonly sessionId: string
  readonly icid?: string | undefined
  /** The X. */
  readonly bindNum?: string | undefined
  readonly subscriptionId?: string | undefined
  readonly fwdAnswerTime?: string | undefined
  readonly callEndTime?: string | undefined
  readonly failTime?: string | undefined
  /** Q.850 cause of the forwarded leg (X to the real callee). */
  readonly fwdUnaswRsn?: number | string | undefined
  /** Tear-down point, in the stateCode space. */
  readonly ulFailReason?: number | string | undefined
}

export type HuaweiPushView =
  | { readonly eventType: "numStatus"; readonly numInfo: ReadonlyArray<NumStatusItem> }
  | { readonly eventType: "fee"; readonly feeLst: ReadonlyArray<FeeItem> }
  | { readonly eventType: string; readonly statusInfo: CallEventInfo }

/** An app whose pushes are accepted: its key, its secret and the scheme it signs with. */
export type PushApp = HuaweiApp
export type { VerifiedToken }

/** The pure functions the push route runs on: header verification and body parsing. */
export interface HuaweiPushCodec {
  /** The token of the X-AKSK / X-WSSE header if its digest verifies under one of `apps`, else undefined. */
  readonly verify: (headers: Headers.Headers, apps: ReadonlyArray<PushApp>) => VerifiedToken | undefined
  /** The push body (JSON already parsed), or the problems that make it unreadable. */
  readonly parse: (body: unknown) => Result.Result<HuaweiPushView, ReadonlyArray<{ readonly path: string; readonly message: string }>>
}

export interface PushLearned {
  readonly xStatuses: number
  readonly outcomes: number
  /** Call events and CDRs already received (re-pushes). */
  readonly repeats: number
}

/**
 * Status `5` normal; `9` paused and `10` unavailable take the X out (unless the cause is `6`, the
 * carrier lifting its restriction); `11` freezes new bindings only.
 */
export const availabilityOf = (status: string, cause: string | undefined): XAvailability =>
  status === "11" ? "bindings-frozen" : (status === "9" || status === "10") && cause !== "6" ? "unavailable" : "available"

/** Huawei push times: `yyyy-MM-dd HH:mm:ss`, UTC. */
export const huaweiTime = (s: string | undefined): number | undefined => {
  const m = s === undefined ? null : /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s)
  if (m === null) return undefined
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
  return Number.isFinite(t) ? t : undefined
}

const code = (v: number | string | undefined): number | undefined => {
  const n = typeof v === "string" && /^\d{1,5}$/.test(v) ? Number(v) : v
  return typeof n === "number" && Number.isInteger(n) ? n : undefined
}

/**
 * A CDR's class: its tear-down code through the stateCode table when it has one (not 0), else an
 * answered call is normal, else the forwarded leg's Q.850 cause (a number problem there is the callee's).
 */
export const classifyFee = (item: FeeItem, stateCodes: StateCodeTable): { readonly outcomeClass: OutcomeClass; readonly code: string } => {
  const teardown = code(item.ulFailReason)
  if (teardown !== undefined && teardown !== 0) return { outcomeClass: stateCodes(teardown), code: `stateCode:${teardown}` }
  if (item.fwdAnswerTime !== undefined && item.fwdAnswerTime !== "") return { outcomeClass: "normal", code: "answered" }
  const q850 = code(item.fwdUnaswRsn)
  return q850 !== undefined ? { outcomeClass: classifyForwardedQ850(q850), code: `fwdUnaswRsn:${q850}` } : { outcomeClass: "other", code: "unanswered" }
}

/** Records what one verified, parsed push says. */
export const learnFromHuaweiPush = (
  push: HuaweiPushView,
  store: EvidenceStoreShape,
  stateCodes: StateCodeTable
): Effect.Effect<PushLearned> =>
  Effect.gen(function*() {
    let xStatuses = 0
    let outcomes = 0
    let repeats = 0
    if ("numInfo" in push) {
      // A status push is a state, not an event: applying it twice changes nothing. In order: the last item for an X wins.
      for (const item of push.numInfo) {
        yield* store.recordXStatus(HUAWEI, item.number, { availability: availabilityOf(item.status, item.cause), status: item.status, cause: item.cause ?? null })
        xStatuses++
      }
    } else if ("feeLst" in push) {
      // up to 50 merged CDRs, each a few Redis round trips: several at once keep the acknowledgement fast
      yield* Effect.forEach(push.feeLst, (item) =>
        Effect.gen(function*() {
          if (!(yield* store.firstSeen(`huawei:fee:${item.sessionId}:${item.icid ?? ""}`, pushIdentityTtlMs))) {
            repeats++
            return
          }
          if (item.bindNum === undefined || item.bindNum === "") return
          const { outcomeClass, code: classifiedFrom } = classifyFee(item, stateCodes)
          yield* store.recordOutcome({
            provider: HUAWEI,
            phoneNoX: item.bindNum,
            subsId: item.subscriptionId === "" ? undefined : item.subscriptionId,
            outcomeClass,
            code: classifiedFrom,
            at: huaweiTime(item.callEndTime) ?? huaweiTime(item.failTime),
            // the CDR and the disconnect event of one call are one call
            callId: `huawei:${item.sessionId}`
          })
          outcomes++
        }), { concurrency: 8, discard: true })
    } else if (push.eventType === "disconnect") {
      const info = push.statusInfo
      if (!(yield* store.firstSeen(`huawei:event:disconnect:${info.sessionId}`, pushIdentityTtlMs))) repeats++
      else if (info.stateCode !== undefined && info.subscriptionId !== undefined && info.subscriptionId !== "") {
        // events may carry platform-side numbers: the X is the one the binding cache knows
        const binding = yield* store.binding(HUAWEI, info.subscriptionId)
        if (binding !== undefined) {
          yield* store.recordOutcome({
            provider: HUAWEI,
            phoneNoX: binding.phoneNoX,
            subsId: info.subscriptionId,
            outcomeClass: stateCodes(info.stateCode),
            code: `stateCode:${info.stateCode}`,
            at: huaweiTime(info.timestamp),
            callId: `huawei:${info.sessionId}`
          })
          outcomes++
        }
      }
    }
    return { xStatuses, outcomes, repeats }
  })
