/**
 * Scripted calls through an X (huawei.md §4.1, §4.3, §4.4): what the platform would do with a call,
 * as the call events and the `fee` CDR it pushes. The platform's own refusals come first, as on the
 * real platform they happen before any forwarding: no binding for this caller on this X (8014), an X
 * without call rights (8055, status 9/10 or blacklisted), a direction the binding forbids (8016),
 * AX A dialling X without a temporary callee set in the last minute (8013), an account that is not
 * active (7108). Otherwise the script says how the forwarded leg ended.
 */
import type { Binding, XNumber } from "./state.ts"

export type CallEventType = "callin" | "callout" | "alerting" | "answer" | "disconnect"
export const CALL_EVENT_TYPES: ReadonlyArray<CallEventType> = ["callin", "callout", "alerting", "answer", "disconnect"]

export interface CallScript {
  /** The binding the call goes through; or name the X with `relationNum` and let the emulator find it. */
  readonly subscriptionId?: string | undefined
  /** The X dialled (with `callerNum`): no binding for that caller on it is a call ending in 8014. */
  readonly relationNum?: string | undefined
  /** Who dials X; default the binding's A (callerNum / origNum). */
  readonly callerNum?: string | undefined
  /** How the forwarded leg ended (table 4.4): default 0 (answered and hung up). */
  readonly stateCode?: number | undefined
  /** Q.850 cause of the forwarded leg when unanswered; default from stateCode (8101 → 19, 8102 → 17, ...). */
  readonly fwdUnaswRsn?: number | undefined
  /** Talk time of an answered call. Default 60. */
  readonly talkSeconds?: number | undefined
  /** Ringing before answer or give-up. Default 5. */
  readonly ringSeconds?: number | undefined
  /** The call events to push (default all that apply); the CDR unless `fee` is false. */
  readonly events?: ReadonlyArray<CallEventType> | undefined
  readonly fee?: boolean | undefined
}

/** How long a temporary callee stays dialable (huawei.md §3.2: "about a minute"). */
export const TEMP_CALLEE_MS = 60_000

/** Q.850 cause of the forwarded leg for the callee-side stateCodes. */
const Q850_OF: Readonly<Record<number, number>> = { 7503: 21, 7504: 21, 8035: 18, 8100: 1, 8101: 19, 8102: 17, 8103: 18, 8104: 20, 8105: 21 }

const STATE_DESC: Readonly<Record<number, string>> = {
  0: "The user hung up.",
  7108: "The account is frozen.",
  8013: "AX: no temporary callee.",
  8014: "The binding does not exist.",
  8016: "The call direction is not allowed.",
  8055: "The X number has no call right.",
  8101: "No answer.",
  8102: "The callee is busy."
}

export interface PlannedCall {
  readonly binding: Binding | undefined
  readonly x: string
  readonly caller: string
  /** The real number the call was forwarded to; undefined when the platform refused it. */
  readonly forwardedTo: string | undefined
  readonly stateCode: number
  readonly answered: boolean
}

/** Decides how a call ends: a platform refusal first, else the script's stateCode. */
export const planCall = (
  binding: Binding | undefined,
  x: XNumber,
  caller: string,
  script: CallScript,
  accountBlocked: boolean,
  now: number
): PlannedCall => {
  const refused = (stateCode: number, matched = true): PlannedCall => ({ binding: matched ? binding : undefined, x: x.number, caller, forwardedTo: undefined, stateCode, answered: false })
  if (accountBlocked) return refused(7108)
  if (x.blacklisted || x.status === "9" || x.status === "10") return refused(8055)
  // an AXB binding routes only its own A and B: anyone else dialling X matches no binding
  if (binding === undefined || (binding.kind === "AXB" && caller !== binding.callerNum && caller !== binding.calleeNum)) return refused(8014, false)
  let forwardedTo: string
  if (binding.kind === "AX") {
    if (caller === binding.origNum) {
      // A reaches the temporary callee set within the last minute, else nobody
      const temp = binding.tempCallee
      if (temp === undefined || now - temp.setAt > TEMP_CALLEE_MS) return refused(8013)
      forwardedTo = temp.calleeNum
    } else {
      forwardedTo = binding.origNum
    }
  } else {
    const fromA = caller === binding.callerNum
    if ((fromA && binding.callDirection === 2) || (!fromA && binding.callDirection === 1)) return refused(8016)
    forwardedTo = fromA ? binding.calleeNum : binding.callerNum
  }
  const stateCode = script.stateCode ?? 0
  return { binding, x: x.number, caller, forwardedTo, stateCode, answered: stateCode === 0 }
}

const pad = (n: number): string => String(n).padStart(2, "0")

/** Push times: `yyyy-MM-dd HH:mm:ss`, UTC. */
export const formatHuaweiTime = (epochMs: number): string => {
  const d = new Date(epochMs)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

export interface CallPushes {
  readonly events: ReadonlyArray<Readonly<Record<string, unknown>>>
  readonly fee: Readonly<Record<string, unknown>> | undefined
}

/**
 * The pushes of a call that ends at `endAt` (emulator clock), times counted back from there. A refused
 * call has no forwarded leg: no callout, alerting or answer, and a CDR with `failTime`.
 */
export const callPushes = (
  call: PlannedCall,
  script: CallScript,
  ids: { readonly sessionId: string; readonly icid: string; readonly appKey: string },
  endAt: number
): CallPushes => {
  const talkMs = call.answered ? (script.talkSeconds ?? 60) * 1000 : 0
  const ringMs = call.forwardedTo === undefined ? 0 : (script.ringSeconds ?? 5) * 1000
  const answerAt = endAt - talkMs
  const alertingAt = answerAt - ringMs
  const callInAt = call.forwardedTo === undefined ? endAt : alertingAt - 1000
  const subscriptionId = call.binding?.subscriptionId ?? ""
  const userData = call.binding?.userData
  const applicable: ReadonlyArray<CallEventType> = call.forwardedTo === undefined
    ? ["callin", "disconnect"]
    : call.answered ? CALL_EVENT_TYPES : ["callin", "callout", "alerting", "disconnect"]
  const wanted = script.events ?? applicable
  const at: Readonly<Record<CallEventType, number>> = { callin: callInAt, callout: callInAt, alerting: alertingAt, answer: answerAt, disconnect: endAt }
  const events = applicable.filter((e) => wanted.includes(e)).map((eventType) => ({
    eventType,
    statusInfo: {
      sessionId: ids.sessionId,
      timestamp: formatHuaweiTime(at[eventType]),
      caller: call.caller,
      called: call.x,
      subscriptionId,
      ...(eventType === "callin" && userData !== undefined ? { userData } : {}),
      ...(eventType === "disconnect" ? { stateCode: call.stateCode, stateDesc: STATE_DESC[call.stateCode] ?? "The call ended." } : {})
    }
  }))
  if (script.fee === false) return { events, fee: undefined }
  const unanswered = call.forwardedTo !== undefined && !call.answered
  const item = {
    direction: 0,
    spId: "emulator",
    appKey: ids.appKey,
    icid: ids.icid,
    bindNum: call.x,
    sessionId: ids.sessionId,
    subscriptionId,
    callerNum: call.caller,
    calleeNum: call.x,
    fwdDisplayNum: call.x,
    fwdDstNum: call.forwardedTo ?? "",
    callInTime: formatHuaweiTime(callInAt),
    ...(call.forwardedTo === undefined ? {} : { fwdStartTime: formatHuaweiTime(callInAt), fwdAlertingTime: formatHuaweiTime(alertingAt) }),
    ...(call.answered ? { fwdAnswerTime: formatHuaweiTime(answerAt) } : {}),
    callEndTime: formatHuaweiTime(endAt),
    ...(call.answered ? {} : { failTime: formatHuaweiTime(endAt) }),
    fwdUnaswRsn: unanswered ? (script.fwdUnaswRsn ?? Q850_OF[call.stateCode] ?? 31) : 0,
    ulFailReason: call.stateCode,
    sipStatusCode: call.answered ? 200 : call.forwardedTo === undefined ? 404 : 480,
    recordFlag: 0,
    serviceType: call.binding?.kind === "AX" ? "003" : "004",
    hostName: "emulator.rtcpns",
    ...(userData === undefined ? {} : { userData })
  }
  return { events, fee: { eventType: "fee", feeLst: [item] } }
}
