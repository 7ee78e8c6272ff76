/**
 * Privacy-call business state: the X pool (owner app, area, status) and the AXB and AX bindings.
 *
 * Pure: no I/O and no clock of its own. Every operation takes `now` (epoch ms on the emulator clock)
 * and answers with an Outcome: the value, or a Huawei result code, so the model-based test drives it
 * exactly as the wire layer does. Requests arrive already validated (requests.ts); what is left here
 * is what depends on state: ownership, X status, pair conflicts, limits and expiry.
 */
import { NO_FREE_X } from "./results.ts"
import type { ResolvedPoolNumber } from "./options.ts"

export type Outcome<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly code: string; readonly detail?: string | undefined }

const ok = <A>(value: A): Outcome<A> => ({ ok: true, value })
const fail = (code: string, detail?: string): Outcome<never> => ({ ok: false, code, detail })

/** An X's state as `numStatus` pushes report it: 5 normal, 9 paused, 10 unavailable, 11 bindings frozen. */
export type XStatus = "5" | "9" | "10" | "11"
export const X_STATUSES: ReadonlyArray<XStatus> = ["5", "9", "10", "11"]

export interface XNumber extends ResolvedPoolNumber {
  readonly status: XStatus
  /** Sent only for an unusable X (huawei.md §4.2). */
  readonly cause: string | undefined
  /** Complaints or long arrears: binds on it answer 1012102 whatever its status. */
  readonly blacklisted: boolean
}

/** A/B pairs one X may hold (huawei.md §3.1). */
export const MAX_PAIRS_PER_X = 5000
/** X numbers one A may hold in AX mode. */
export const MAX_AX_PER_A = 5
/** `duration` upper bound: 90 days. */
export const MAX_DURATION_SECONDS = 7_776_000

export interface PreVoice {
  readonly callerHintTone?: string | undefined
  readonly calleeHintTone?: string | undefined
}

/** Call settings both modes share; stored and echoed, they do not change routing in the emulator. */
export interface CallSettings {
  /** Minutes per call; 0 = no cap. */
  readonly maxDuration: number
  readonly lastMinVoice: string | undefined
  readonly recordFlag: boolean
  readonly recordHintTone: string | undefined
  readonly privateSms: boolean | undefined
  readonly preVoice: PreVoice | undefined
  readonly userData: string | undefined
}

/** What an AXB bind sets and a modify may change; callDirection routes calls, duration ends the binding. */
export interface AxbSettings extends CallSettings {
  readonly callDirection: 0 | 1 | 2
  /** Seconds; 0 = never expires. */
  readonly duration: number
}

export interface AxbBinding extends AxbSettings {
  readonly kind: "AXB"
  readonly subscriptionId: string
  readonly appKey: string
  readonly relationNum: string
  readonly callerNum: string
  readonly calleeNum: string
  /** Creation or last modification (query's `subscribeTime`). */
  readonly subscribeTime: number
  /** subscribeTime of the last `duration` change + duration; Infinity when duration is 0. */
  readonly expiresAt: number
}

export interface AxSettings extends CallSettings {
  readonly calleeNumDisplay: "0" | "1"
}

/** AX bindings never expire. */
export interface AxBinding extends AxSettings {
  readonly kind: "AX"
  readonly subscriptionId: string
  readonly appKey: string
  readonly origNum: string
  readonly privateNum: string
  readonly subscribeTime: number
  /** The temporary callee A reaches by dialling X, and when it was set (A must dial within a minute). */
  readonly tempCallee: { readonly calleeNum: string; readonly setAt: number } | undefined
}

export type Binding = AxbBinding | AxBinding

/** Where to take an X from when none is named: a city, strictly (`0`) or then its province and any (`1`). */
export interface AreaChoice {
  readonly areaCode: string | undefined
  readonly areaMatchMode: "0" | "1"
}

export interface AxbBindRequest extends AreaChoice, AxbSettings {
  readonly relationNum: string | undefined
  readonly callerNum: string
  readonly calleeNum: string
}

/** Fields a modify may carry; absent or undefined = unchanged. */
export type Changes<T> = { readonly [K in keyof T]?: T[K] | undefined }

export type AxbChanges = Changes<AxbSettings> & { readonly callerNum?: string | undefined; readonly calleeNum?: string | undefined }

export interface AxbQuery {
  readonly subscriptionId?: string | undefined
  readonly relationNum?: string | undefined
  readonly callerNum?: string | undefined
  readonly calleeNum?: string | undefined
  /** From 1. */
  readonly pageIndex: number
  /** 10-100. */
  readonly pageSize: number
}

export interface AxBindRequest extends AreaChoice, AxSettings {
  readonly origNum: string
  readonly privateNum: string | undefined
}

/** An AX binding named by its id, or by A and X together. */
export type AxTarget = { readonly subscriptionId: string } | { readonly origNum: string; readonly privateNum: string }

export type AxQuery = { readonly subscriptionId: string } | { readonly origNum: string } | { readonly privateNum: string }

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export class BindingState {
  private readonly numbers = new Map<string, Mutable<XNumber>>()
  private readonly bindings = new Map<string, Mutable<AxbBinding> | Mutable<AxBinding>>()
  /** Live bindings by X, for conflict checks and queries by X. */
  private readonly byX = new Map<string, Set<string>>()
  /** Earliest expiry of any AXB binding, so a sweep costs nothing until something can have expired. */
  private nextExpiry = Infinity
  private readonly newId: () => string

  constructor(pool: ReadonlyArray<ResolvedPoolNumber>, newId: () => string) {
    this.newId = newId
    for (const n of pool) this.numbers.set(n.number, { ...n, status: "5", cause: undefined, blacklisted: false })
  }

  /** Back to the start: no bindings, every X normal and off the blacklist. */
  clear(): void {
    this.bindings.clear()
    this.byX.clear()
    this.nextExpiry = Infinity
    for (const x of this.numbers.values()) Object.assign(x, { status: "5", cause: undefined, blacklisted: false })
  }

  pool(): ReadonlyArray<XNumber> {
    return [...this.numbers.values()].map((x) => ({ ...x }))
  }

  number(x: string): XNumber | undefined {
    const row = this.numbers.get(x)
    return row === undefined ? undefined : { ...row }
  }

  /** Sets an X's status (and cause); answers the X as it was before, so the caller can tell whether it changed. */
  setXStatus(x: string, status: XStatus, cause: string | undefined): Outcome<{ readonly before: XNumber; readonly after: XNumber }> {
    const row = this.numbers.get(x)
    if (row === undefined) return fail("1011001", `X ${x} is not in the pool.`)
    const before = { ...row }
    row.status = status
    row.cause = status === "5" ? undefined : cause
    return ok({ before, after: { ...row } })
  }

  setBlacklisted(x: string, blacklisted: boolean): Outcome<XNumber> {
    const row = this.numbers.get(x)
    if (row === undefined) return fail("1011001", `X ${x} is not in the pool.`)
    row.blacklisted = blacklisted
    return ok({ ...row })
  }

  /** A live binding of any app, for the control API and scripted calls. */
  get(subscriptionId: string, now: number): Binding | undefined {
    this.sweep(now)
    const b = this.bindings.get(subscriptionId)
    return b === undefined ? undefined : { ...b }
  }

  /** Live bindings on an X, oldest first. */
  onX(x: string, now: number): ReadonlyArray<Binding> {
    this.sweep(now)
    return [...(this.byX.get(x) ?? [])].map((id) => ({ ...this.bindings.get(id)! }))
  }

  list(now: number, limit: number): ReadonlyArray<Binding> {
    this.sweep(now)
    const out: Array<Binding> = []
    for (const b of this.bindings.values()) {
      if (out.length >= limit) break
      out.push({ ...b })
    }
    return out
  }

  get size(): number {
    return this.bindings.size
  }

  // ---- AXB ----

  bindAxb(appKey: string, req: AxbBindRequest, now: number): Outcome<AxbBinding> {
    this.sweep(now)
    const parties = [req.callerNum, req.calleeNum]
    let x: string
    if (req.relationNum !== undefined) {
      const usable = this.usableX(appKey, req.relationNum, "1012001")
      if (!usable.ok) return usable
      const blocked = this.axbBlocked(req.relationNum, parties)
      if (blocked !== undefined) return fail(blocked)
      x = req.relationNum
    } else {
      const picked = this.pick(appKey, req, (n) => this.axbBlocked(n, parties) === undefined)
      if (picked === undefined) return fail(NO_FREE_X)
      x = picked
    }
    const { relationNum: _r, areaCode: _a, areaMatchMode: _m, ...rest } = req
    const b: AxbBinding = { ...rest, kind: "AXB", subscriptionId: this.newId(), appKey, relationNum: x, subscribeTime: now, expiresAt: expiry(now, req.duration) }
    this.add(b)
    return ok(b)
  }

  modifyAxb(appKey: string, subscriptionId: string, changes: AxbChanges, now: number): Outcome<AxbBinding> {
    this.sweep(now)
    const b = this.bindings.get(subscriptionId)
    if (b === undefined || b.appKey !== appKey || b.kind !== "AXB") return fail("1012007")
    const callerNum = changes.callerNum ?? b.callerNum
    const calleeNum = changes.calleeNum ?? b.calleeNum
    if (callerNum === calleeNum) return fail("1010002", "Invalid request: callerNum and calleeNum are the same number.")
    if ((changes.callerNum !== undefined || changes.calleeNum !== undefined) && this.axbBlocked(b.relationNum, [callerNum, calleeNum], subscriptionId) === "1012010") return fail("1012010")
    const maxDuration = changes.maxDuration ?? b.maxDuration
    const lastMinVoice = changes.lastMinVoice ?? b.lastMinVoice
    if (lastMinVoice !== undefined && maxDuration === 0) return fail("1010002", "Invalid request: lastMinVoice needs maxDuration > 0.")
    for (const [k, v] of Object.entries(changes)) if (v !== undefined) (b as Record<string, unknown>)[k] = v
    b.subscribeTime = now
    // A new duration restarts the clock from the moment of the change (huawei.md §3.1).
    if (changes.duration !== undefined) {
      b.expiresAt = expiry(now, changes.duration)
      this.nextExpiry = Math.min(this.nextExpiry, b.expiresAt)
    }
    return ok({ ...b })
  }

  /** subscriptionId wins; else every binding on relationNum matching callerNum / calleeNum when given. */
  queryAxb(appKey: string, q: AxbQuery, now: number): Outcome<{ readonly totalCount: number; readonly items: ReadonlyArray<AxbBinding> }> {
    this.sweep(now)
    const all = this.axbMatching(appKey, q)
    if (all.length === 0) return fail("1012007")
    const start = (q.pageIndex - 1) * q.pageSize
    return ok({ totalCount: all.length, items: all.slice(start, start + q.pageSize).map((b) => ({ ...b })) })
  }

  /** subscriptionId wins; relationNum alone removes every binding of the app on that X. */
  unbindAxb(appKey: string, q: { readonly subscriptionId?: string | undefined; readonly relationNum?: string | undefined }, now: number): Outcome<number> {
    this.sweep(now)
    const gone = this.axbMatching(appKey, { subscriptionId: q.subscriptionId, relationNum: q.relationNum })
    if (gone.length === 0) return fail("1012007")
    for (const b of gone) this.remove(b.subscriptionId)
    return ok(gone.length)
  }

  // ---- AX ----

  bindAx(appKey: string, req: AxBindRequest, now: number): Outcome<AxBinding> {
    this.sweep(now)
    const held = [...this.bindings.values()].filter((b) => b.kind === "AX" && b.appKey === appKey && b.origNum === req.origNum).length
    if (held >= MAX_AX_PER_A) return fail("1011003")
    let x: string
    if (req.privateNum !== undefined) {
      const usable = this.usableX(appKey, req.privateNum, "1011004")
      if (!usable.ok) return usable
      if ((this.byX.get(req.privateNum)?.size ?? 0) > 0) return fail("1011005")
      x = req.privateNum
    } else {
      const picked = this.pick(appKey, req, (n) => (this.byX.get(n)?.size ?? 0) === 0)
      if (picked === undefined) return fail(NO_FREE_X)
      x = picked
    }
    const { privateNum: _p, areaCode: _a, areaMatchMode: _m, ...rest } = req
    const b: AxBinding = { ...rest, kind: "AX", subscriptionId: this.newId(), appKey, privateNum: x, subscribeTime: now, tempCallee: undefined }
    this.add(b)
    return ok(b)
  }

  modifyAx(appKey: string, target: AxTarget, changes: Changes<AxSettings>, now: number): Outcome<AxBinding> {
    const b = this.axTarget(appKey, target)
    if (b === undefined) return fail("1012007")
    const maxDuration = changes.maxDuration ?? b.maxDuration
    if ((changes.lastMinVoice ?? b.lastMinVoice) !== undefined && maxDuration === 0) return fail("1010002", "Invalid request: lastMinVoice needs maxDuration > 0.")
    for (const [k, v] of Object.entries(changes)) if (v !== undefined) (b as Record<string, unknown>)[k] = v
    b.subscribeTime = now
    return ok({ ...b })
  }

  queryAx(appKey: string, q: AxQuery): Outcome<ReadonlyArray<AxBinding>> {
    const items = [...this.bindings.values()].filter((b): b is Mutable<AxBinding> =>
      b.kind === "AX" && b.appKey === appKey &&
      ("subscriptionId" in q ? b.subscriptionId === q.subscriptionId : "origNum" in q ? b.origNum === q.origNum : b.privateNum === q.privateNum))
    return items.length === 0 ? fail("1012007") : ok(items.map((b) => ({ ...b })))
  }

  /** Sets the callee A reaches through X next, replacing the previous one (huawei.md §3.2). */
  setTempCallee(appKey: string, target: { readonly subscriptionId: string } | { readonly privateNum: string }, calleeNum: string, now: number): Outcome<AxBinding> {
    const b = [...this.bindings.values()].find((o): o is Mutable<AxBinding> =>
      o.kind === "AX" && o.appKey === appKey && ("subscriptionId" in target ? o.subscriptionId === target.subscriptionId : o.privateNum === target.privateNum))
    if (b === undefined) return fail("1012007")
    if (calleeNum === b.origNum) return fail("1010002", "Invalid request: calleeNum must differ from origNum.")
    b.tempCallee = { calleeNum, setAt: now }
    return ok({ ...b })
  }

  unbindAx(appKey: string, target: AxTarget): Outcome<AxBinding> {
    const b = this.axTarget(appKey, target)
    if (b === undefined) return fail("1012007")
    this.remove(b.subscriptionId)
    return ok({ ...b })
  }

  // ---- internals ----

  /** Auto-unbind at expiry: an expired AXB binding is gone, exactly as if unbound at that moment. */
  private sweep(now: number): void {
    if (now < this.nextExpiry) return
    let next = Infinity
    for (const b of this.bindings.values()) {
      if (b.kind !== "AXB") continue
      if (b.expiresAt <= now) this.remove(b.subscriptionId)
      else next = Math.min(next, b.expiresAt)
    }
    this.nextExpiry = next
  }

  private add(b: AxbBinding | AxBinding): void {
    this.bindings.set(b.subscriptionId, { ...b })
    const x = b.kind === "AXB" ? b.relationNum : b.privateNum
    let ids = this.byX.get(x)
    if (ids === undefined) this.byX.set(x, (ids = new Set()))
    ids.add(b.subscriptionId)
    if (b.kind === "AXB") this.nextExpiry = Math.min(this.nextExpiry, b.expiresAt)
  }

  private remove(subscriptionId: string): void {
    const b = this.bindings.get(subscriptionId)
    if (b === undefined) return
    this.bindings.delete(subscriptionId)
    const x = b.kind === "AXB" ? b.relationNum : b.privateNum
    const ids = this.byX.get(x)
    ids?.delete(subscriptionId)
    if (ids?.size === 0) this.byX.delete(x)
  }

  /** A named X must be this app's and take new bindings (status 5, not blacklisted). */
  private usableX(appKey: string, x: string, notOwned: string): Outcome<XNumber> {
    const row = this.numbers.get(x)
    if (row === undefined) return fail("1011001")
    if (row.appKey !== appKey) return fail(notOwned)
    if (row.status !== "5" || row.blacklisted) return fail("1012102")
    return ok(row)
  }

  /** Why an AXB pair cannot go on X: a party already there (1012010) or the X full; undefined when it fits. */
  private axbBlocked(x: string, parties: ReadonlyArray<string>, except?: string): string | undefined {
    const ids = this.byX.get(x)
    if (ids === undefined) return undefined
    let count = 0
    for (const id of ids) {
      if (id === except) continue
      const o = this.bindings.get(id)!
      if (o.kind === "AXB" && parties.some((p) => p === o.callerNum || p === o.calleeNum)) return "1012010"
      count++
    }
    return count >= MAX_PAIRS_PER_X ? NO_FREE_X : undefined
  }

  /** The first usable X of the app that fits, in pool order: in the city; with mode 1 then the province, then anywhere. */
  private pick(appKey: string, area: AreaChoice, fits: (x: string) => boolean): string | undefined {
    const candidates = [...this.numbers.values()].filter((n) => n.appKey === appKey && n.status === "5" && !n.blacklisted && fits(n.number))
    if (area.areaCode === undefined) return candidates[0]?.number
    const inCity = candidates.find((n) => n.areaCode === area.areaCode)
    if (inCity !== undefined || area.areaMatchMode === "0") return inCity?.number
    const province = [...this.numbers.values()].find((n) => n.areaCode === area.areaCode)?.province ?? area.areaCode
    return (candidates.find((n) => n.province === province) ?? candidates[0])?.number
  }

  private axbMatching(appKey: string, q: Omit<AxbQuery, "pageIndex" | "pageSize">): Array<Mutable<AxbBinding>> {
    const of = (ids: Iterable<string>) => [...ids].map((id) => this.bindings.get(id)).filter((b): b is Mutable<AxbBinding> => b?.kind === "AXB" && b.appKey === appKey)
    if (q.subscriptionId !== undefined) return of([q.subscriptionId])
    if (q.relationNum === undefined) return []
    return of(this.byX.get(q.relationNum) ?? []).filter((b) =>
      (q.callerNum === undefined || b.callerNum === q.callerNum) && (q.calleeNum === undefined || b.calleeNum === q.calleeNum))
  }

  private axTarget(appKey: string, t: AxTarget): Mutable<AxBinding> | undefined {
    for (const b of "subscriptionId" in t ? [this.bindings.get(t.subscriptionId)] : this.bindings.values()) {
      if (b?.kind !== "AX" || b.appKey !== appKey) continue
      if ("subscriptionId" in t || (b.origNum === t.origNum && b.privateNum === t.privateNum)) return b
    }
    return undefined
  }
}

const expiry = (from: number, durationSeconds: number): number => durationSeconds === 0 ? Infinity : from + durationSeconds * 1000
