/**
 * Everything one Huawei emulator instance knows: options, clock, X pool and bindings, account state,
 * CEC tokens and calls, faults, nonces, pushes and stats, plus the operations the control API and
 * the programmatic API share. Refusals throw EmulatorControlError (`status`, `code`).
 */
import { randomUUID } from "node:crypto"
import { type ClockView, EmulatorClock } from "../aliyun/clock.ts"
export type { ClockView } from "../aliyun/clock.ts"
import { EmulatorControlError } from "../errors.ts"
import { FaultTable, makeRandom } from "../faults.ts"
import type { FaultSpec } from "../faults.ts"
import { NonceStore } from "../aliyun/nonces.ts"
import { Stats } from "../aliyun/stats.ts"
import type { StatsView } from "../aliyun/stats.ts"
import { callPushes, formatHuaweiTime, planCall } from "./calls.ts"
import type { CallScript, PlannedCall } from "./calls.ts"
import { CALL_SERIAL_NO, CecState } from "./cec.ts"
import type { CecCall, CecCallScript } from "./cec.ts"
import { faultTargetError } from "./options.ts"
import type { HuaweiMode, ResolvedApp, ResolvedOptions } from "./options.ts"
import { PushOutbox } from "./pushes.ts"
import type { PushStats, PushView } from "./pushes.ts"
import { parseAxBind, parseAxbBind } from "./requests.ts"
import type { Parsed } from "./requests.ts"
import { result } from "./results.ts"
import { BindingState, X_STATUSES } from "./state.ts"
import type { Binding, Outcome, XNumber, XStatus } from "./state.ts"

export { EmulatorControlError }

/**
 * The account behind every app: `active`; `arrears` (every request answers 1010007); `suspended`
 * (the app keys are suspended: 1010008); `frozen` (bind, modify and unbind answer 1010029, queries
 * still work). Calls through an X of an account that is not active end in 7108.
 */
export type AccountState = "active" | "arrears" | "suspended" | "frozen"
export const ACCOUNT_STATES: ReadonlyArray<AccountState> = ["active", "arrears", "suspended", "frozen"]


/** A binding as the control API shows it: the wire's fields plus where it stands on the emulator clock. */
export type BindingView = Readonly<Record<string, unknown>> & {
  readonly mode: HuaweiMode
  readonly subscriptionId: string
  readonly appKey: string
  /** Emulator seconds until the auto-unbind; null when it never expires. */
  readonly expiresInSeconds: number | null
}

/** Fields of a binding made through the control API: the wire's bind fields, plus `mode` and optionally `appKey`. */
export type CreateBindingInput = Readonly<Record<string, unknown>> & {
  readonly mode: HuaweiMode
  /** Default: the first app of that mode. */
  readonly appKey?: string | undefined
}

export interface CallRecord {
  readonly sessionId: string
  readonly icid: string
  /** "" when no binding matched (stateCode 8014). */
  readonly subscriptionId: string
  readonly relationNum: string
  readonly callerNum: string
  readonly stateCode: number
  readonly answered: boolean
  /** Ids of the pushes it produced, in order (see `pushes()`). */
  readonly pushIds: ReadonlyArray<number>
}

export interface HuaweiStatsView extends StatsView {
  readonly pushes: PushStats
}

export interface StateView {
  readonly apps: ReadonlyArray<{ readonly appKey: string; readonly mode: HuaweiMode; readonly auth: string }>
  readonly account: AccountState
  readonly verifySignatures: boolean
  readonly seed: number
  readonly clock: ClockView
  readonly pool: ReadonlyArray<XNumber>
  readonly bindings: { readonly count: number; readonly truncated: boolean; readonly items: ReadonlyArray<BindingView> }
  readonly cec: { readonly calls: number; readonly liveTokens: number }
  readonly faults: Readonly<Record<string, FaultSpec>>
  readonly callbackUrl: string | null
  readonly rememberedNonces: number
}

const STATE_VIEW_LIMIT = 1000

/** The value of an outcome, or the control error carrying the Huawei code the wire would have answered. */
const valueOf = <A>(o: Outcome<A>): A => {
  if (o.ok) return o.value
  const status = o.code === "1012007" || o.code === "1011001" ? 404 : o.code === "1010002" ? 400 : 409
  throw new EmulatorControlError(status, o.code, result(o.code, o.detail).resultdesc)
}

/** A parsed request, or the control error with the 1010002 the wire would have answered. */
const requestOf = <A>(p: Parsed<A>): A => {
  if (p.ok) return p.value
  throw new EmulatorControlError(400, p.error.resultcode ?? "1010002", p.error.resultdesc)
}

export class HuaweiEmulatorCore {
  readonly options: ResolvedOptions
  readonly clock = new EmulatorClock()
  readonly state: BindingState
  readonly cec = new CecState()
  readonly faultTable: FaultTable
  readonly nonces: NonceStore
  readonly stats = new Stats()
  readonly outbox: PushOutbox
  account: AccountState = "active"
  /** X numbers the account's arrears or freeze paused, to recover when it is active again. */
  private readonly pausedByAccount = new Set<string>()
  random: () => number

  constructor(options: ResolvedOptions) {
    this.options = options
    this.state = new BindingState(options.pool, () => randomUUID())
    // a nonce needs remembering only while its Created still passes the skew check
    this.nonces = new NonceStore(options.clockSkewMs, options.maxNonces)
    this.random = makeRandom(options.seed)
    this.outbox = new PushOutbox({ callbackUrl: options.callbackUrl, pushAuth: options.pushAuth, timeoutMs: options.pushTimeoutMs, clock: this.clock })
    this.faultTable = new FaultTable(options.faults, faultTargetError)
  }

  /** Back to just-started: no bindings or pushes, every X normal, account active, start faults, clock offset 0. */
  reset(): void {
    this.state.clear()
    this.cec.clear()
    this.faultTable.reset()
    this.nonces.clear()
    this.clock.reset()
    this.random = makeRandom(this.options.seed)
    this.stats.reset()
    this.outbox.reset()
    this.account = "active"
    this.pausedByAccount.clear()
  }

  app(appKey: string): ResolvedApp | undefined {
    return this.options.apps.find((a) => a.appKey === appKey)
  }

  setFault(action: string, spec: unknown): FaultSpec {
    return this.faultTable.set(action, spec)
  }

  clearFaults(action?: string): void {
    this.faultTable.clear(action)
  }

  /** A binding made as the wire would make it (same checks, same codes), without signing a request. */
  createBinding(input: CreateBindingInput): BindingView {
    const mode = input.mode
    if (mode !== "AXB" && mode !== "AX") throw new EmulatorControlError(400, "InvalidRequest", 'mode must be "AXB" or "AX"')
    const app = input.appKey === undefined ? this.options.apps.find((a) => a.mode === mode) : this.app(input.appKey)
    if (app === undefined || app.mode !== mode) throw new EmulatorControlError(400, "InvalidRequest", `no ${mode} app ${input.appKey ?? ""}`.trim())
    const now = this.clock.now()
    const bound = mode === "AXB"
      ? valueOf(this.state.bindAxb(app.appKey, requestOf(parseAxbBind(input)), now))
      : valueOf(this.state.bindAx(app.appKey, requestOf(parseAxBind(input)), now))
    return this.binding(bound.subscriptionId)
  }

  binding(subscriptionId: string): BindingView {
    const now = this.clock.now()
    const b = this.state.get(subscriptionId, now)
    if (b === undefined) throw new EmulatorControlError(404, "1012007", `no binding ${subscriptionId} (never made, unbound or expired)`)
    return bindingView(b, now)
  }

  unbind(subscriptionId: string): BindingView {
    const view = this.binding(subscriptionId)
    if (view.mode === "AXB") valueOf(this.state.unbindAxb(view.appKey, { subscriptionId }, this.clock.now()))
    else valueOf(this.state.unbindAx(view.appKey, { subscriptionId }))
    return view
  }

  /** Changes an X's status (and cause) and, when that changed anything, pushes `numStatus` for it. */
  setXStatus(x: string, status: XStatus, cause?: string): { readonly number: string; readonly status: XStatus; readonly cause: string | null; readonly pushId: number | null } {
    if (!X_STATUSES.includes(status)) throw new EmulatorControlError(400, "InvalidRequest", `status must be one of ${X_STATUSES.join(", ")}`)
    if (cause !== undefined && !/^\d{1,2}$/.test(cause)) throw new EmulatorControlError(400, "InvalidRequest", "cause must be 1-2 digits")
    const { before, after } = valueOf(this.state.setXStatus(x, status, cause))
    // a status set by hand is no longer the account's pause to lift
    this.pausedByAccount.delete(x)
    const changed = before.status !== after.status || before.cause !== after.cause
    return { number: x, status, cause: after.cause ?? null, pushId: changed ? this.pushNumStatus([after])[0]! : null }
  }

  /** Blacklists an X (binds on it answer 1012102, calls through it end in 8055) or takes it off. */
  setXBlacklisted(x: string, blacklisted: boolean): XNumber {
    return valueOf(this.state.setBlacklisted(x, blacklisted))
  }

  /**
   * Arrears and a frozen subscriber pause every X (huawei.md §7): each normal X goes to status 9,
   * cause 2, pushed as `numStatus` (up to 100 numbers per push, per app); back to active, the X
   * numbers this paused (and nothing changed since) return to 5.
   */
  setAccountState(account: AccountState): { readonly account: AccountState; readonly pushIds: ReadonlyArray<number> } {
    if (!ACCOUNT_STATES.includes(account)) throw new EmulatorControlError(400, "InvalidRequest", `account must be one of ${ACCOUNT_STATES.join(", ")}`)
    const pausing = account === "arrears" || account === "frozen"
    const changed: Array<XNumber> = []
    for (const x of this.state.pool()) {
      if (pausing && x.status === "5") {
        changed.push(valueOf(this.state.setXStatus(x.number, "9", "2")).after)
        this.pausedByAccount.add(x.number)
      } else if (!pausing && this.pausedByAccount.has(x.number) && x.status === "9" && x.cause === "2") {
        changed.push(valueOf(this.state.setXStatus(x.number, "5", undefined)).after)
      }
    }
    if (!pausing) this.pausedByAccount.clear()
    this.account = account
    return { account, pushIds: this.pushNumStatus(changed) }
  }

  /** numStatus pushes for X numbers that changed: one per app and per 100 numbers. */
  private pushNumStatus(changed: ReadonlyArray<XNumber>): ReadonlyArray<number> {
    const ids: Array<number> = []
    for (const app of this.options.apps) {
      const items = changed.filter((x) => x.appKey === app.appKey).map((x) => ({ number: x.number, status: x.status, ...(x.cause === undefined ? {} : { cause: x.cause }) }))
      for (let i = 0; i < items.length; i += 100) ids.push(this.outbox.push(app, { eventType: "numStatus", numInfo: items.slice(i, i + 100) }))
    }
    return ids
  }

  /** A call through an X that ends now on the emulator clock: its call events and CDR go to the callback URL. */
  endCall(script: CallScript): CallRecord {
    const now = this.clock.now()
    let binding: Binding | undefined
    let xNumber: string
    if (script.subscriptionId !== undefined) {
      binding = this.state.get(script.subscriptionId, now)
      if (binding === undefined) throw new EmulatorControlError(404, "1012007", `no binding ${script.subscriptionId}; to script a call on a gone binding, dial its X with relationNum and callerNum`)
      xNumber = binding.kind === "AXB" ? binding.relationNum : binding.privateNum
    } else if (script.relationNum !== undefined && script.callerNum !== undefined) {
      xNumber = script.relationNum
      const caller = script.callerNum
      binding = this.state.onX(xNumber, now).find((b) => b.kind === "AX" || b.callerNum === caller || b.calleeNum === caller)
    } else {
      throw new EmulatorControlError(400, "InvalidRequest", "a call needs subscriptionId, or relationNum and callerNum")
    }
    const x = this.state.number(xNumber)
    if (x === undefined) throw new EmulatorControlError(404, "1011001", `X ${xNumber} is not in the pool`)
    const caller = script.callerNum ?? (binding === undefined ? "" : binding.kind === "AXB" ? binding.callerNum : binding.origNum)
    const call: PlannedCall = planCall(binding, x, caller, script, this.account !== "active", now)
    const app = this.app(binding?.appKey ?? x.appKey)!
    const sessionId = `${randomUUID().replaceAll("-", "")}@emulator.rtcpns`
    const icid = randomUUID().replaceAll("-", "").toUpperCase()
    const pushes = callPushes(call, script, { sessionId, icid, appKey: app.appKey }, now)
    const pushIds = [...pushes.events, ...(pushes.fee === undefined ? [] : [pushes.fee])].map((body) => this.outbox.push(app, body))
    return { sessionId, icid, subscriptionId: call.binding?.subscriptionId ?? "", relationNum: xNumber, callerNum: caller, stateCode: call.stateCode, answered: call.answered, pushIds }
  }

  setCecCall(callSerialNo: string, script: CecCallScript): CecCall {
    if (!CALL_SERIAL_NO.test(callSerialNo)) throw new EmulatorControlError(400, "InvalidRequest", "callSerialNo is 1-50 letters, digits, _ . : -")
    if (![0, 1, 2, 3].includes(script.state)) throw new EmulatorControlError(400, "InvalidRequest", "state must be 0, 1, 2 or 3")
    if (script.reasonCode !== undefined && !(Number.isInteger(script.reasonCode) && script.reasonCode >= 0 && script.reasonCode <= 65535)) {
      throw new EmulatorControlError(400, "InvalidRequest", "reasonCode must be an integer 0..65535")
    }
    return this.cec.setCall(callSerialNo, script, this.clock.now())
  }

  /** Moves the emulator clock: bindings age (and expire), CEC tokens age, due re-pushes go out. */
  advanceClock(seconds: number): ClockView {
    this.clock.advanceBy(seconds)
    this.outbox.runDue()
    return this.clockView()
  }

  clockView(): ClockView {
    return this.clock.view()
  }

  pushes(): ReadonlyArray<PushView> {
    return this.outbox.view()
  }

  stateView(): StateView {
    const now = this.clock.now()
    const items = this.state.list(now, STATE_VIEW_LIMIT + 1)
    return {
      apps: this.options.apps.map((a) => ({ appKey: a.appKey, mode: a.mode, auth: a.auth })),
      account: this.account,
      verifySignatures: this.options.verifySignatures,
      seed: this.options.seed,
      clock: this.clockView(),
      pool: this.state.pool(),
      bindings: { count: this.state.size, truncated: items.length > STATE_VIEW_LIMIT, items: items.slice(0, STATE_VIEW_LIMIT).map((b) => bindingView(b, now)) },
      cec: { calls: this.cec.callCount, liveTokens: this.cec.tokenCount },
      faults: Object.fromEntries(this.faultTable.specs),
      callbackUrl: this.outbox.url ?? null,
      rememberedNonces: this.nonces.size
    }
  }

  statsView(): HuaweiStatsView {
    return { ...this.stats.view(), pushes: this.outbox.stats() }
  }
}

/** The reply item of an AXB or AX query for a binding: its wire fields. */
export const wireFields = (b: Binding): Readonly<Record<string, unknown>> => {
  const common = {
    subscriptionId: b.subscriptionId,
    maxDuration: b.maxDuration,
    recordFlag: String(b.recordFlag),
    subscribeTime: formatHuaweiTime(b.subscribeTime),
    ...(b.lastMinVoice === undefined ? {} : { lastMinVoice: b.lastMinVoice }),
    ...(b.privateSms === undefined ? {} : { privateSms: String(b.privateSms) }),
    ...(b.userData === undefined ? {} : { userData: b.userData })
  }
  return b.kind === "AXB"
    ? { ...common, relationNum: b.relationNum, callerNum: b.callerNum, calleeNum: b.calleeNum, callDirection: b.callDirection, duration: b.duration }
    : { ...common, origNum: b.origNum, privateNum: b.privateNum, calleeNumDisplay: b.calleeNumDisplay }
}

const bindingView = (b: Binding, now: number): BindingView => ({
  ...wireFields(b),
  mode: b.kind,
  subscriptionId: b.subscriptionId,
  appKey: b.appKey,
  expiresInSeconds: b.kind === "AXB" && Number.isFinite(b.expiresAt) ? Math.round((b.expiresAt - now) / 1000) : null
})
