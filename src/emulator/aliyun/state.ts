/**
 * Dyplsapi business state: number pools, bindings (subscriptions) and their call faults.
 *
 * Pure: no I/O and no clock of its own. Every operation takes `now` (epoch ms on the emulator clock)
 * and answers with an Outcome carrying either the value or a Dyplsapi business code (`isv.*`), so the
 * module can be driven directly by the model-based test and by the wire layer alike.
 *
 * Beijing-time strings on the wire (`Expiration`) are wall-clock time, as clients compute them from
 * their own clocks; `wireOffsetMs` (emulator clock minus wall clock) moves them onto the emulator
 * clock. So advancing the clock ages the existing bindings, while a new `Expiration` still means
 * "this long from now".
 */
import type { BindingMode } from "../../domain/binding.ts"
import { parseBeijing } from "./clock.ts"

export type { BindingMode }

export type Outcome<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly code: string; readonly message: string }

const ok = <A>(value: A): Outcome<A> => ({ ok: true, value })
const fail = (code: string, message: string): Outcome<never> => ({ ok: false, code, message })

export interface PoolConfig {
  readonly poolKey: string
  /** The X numbers of the pool, in allocation order. */
  readonly numbers: ReadonlyArray<string>
}

export const DEMO_POOL_KEY = "FC100000000001"

/** `count` consecutive numbers from `first`, e.g. numberRange("17000000000", 100). */
export const numberRange = (first: string, count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, i) => (BigInt(first) + BigInt(i)).toString().padStart(first.length, "0"))

/** 100 X numbers 17000000000-17000000099; there with no configuration at all. */
export const DEMO_POOL: PoolConfig = { poolKey: DEMO_POOL_KEY, numbers: numberRange("17000000000", 100) }

/** Mainland mobile (1[3-9] + 9 digits) or fixed line (0 + 9-11 digits), digits only, as the platform checks. */
export const isLegalNumber = (s: string): boolean => /^(?:1[3-9]\d{9}|0\d{9,11})$/.test(s)

/** A fault on a binding: QueryCallStatus answers 2 with a temporary X, or 3 with no number. */
export type CallFault = { readonly status: 2; readonly temporaryX: string } | { readonly status: 3 }

/** Binding attributes that are stored and echoed but do not change routing in the emulator. */
export interface BindingExtras {
  readonly outId?: string | undefined
  readonly outOrderId?: string | undefined
  readonly needRecord?: boolean | undefined
  readonly callRestrict?: string | undefined
  readonly callDisplayType?: number | undefined
  readonly asrStatus?: boolean | undefined
  readonly asrModelId?: string | undefined
  readonly expectCity?: string | undefined
}

export interface Binding {
  readonly subsId: string
  readonly poolKey: string
  readonly mode: BindingMode
  readonly phoneNoA: string
  readonly phoneNoB: string | undefined
  readonly phoneNoX: string
  readonly extension: string | undefined
  readonly createdAt: number
  readonly expiresAt: number
  readonly callFault: CallFault | undefined
  readonly extras: BindingExtras
}

/** The mutable record behind a Binding; never handed out (snapshots are). */
type Row = { -readonly [K in keyof Binding]: Binding[K] }

export interface BindRequest {
  readonly mode: BindingMode
  readonly poolKey: string | undefined
  readonly phoneNoA: string
  readonly phoneNoB?: string | undefined
  readonly phoneNoX?: string | undefined
  readonly extension?: string | undefined
  readonly extras?: BindingExtras | undefined
}

export interface BoundNumber {
  readonly subsId: string
  readonly secretNo: string
  readonly extension: string | undefined
  readonly expiresAt: number
}

export interface CallStatusAnswer {
  readonly status: 1 | 2 | 3 | 4
  readonly calledNo: string | undefined
  readonly extension: string | undefined
}

/**
 * An X's state as QuerySecretNoDetail reports it: 0 unbound, 1 bound, 2 locked, 3 frozen. Locked and
 * frozen are set through the control API; a locked or frozen X carries no call and takes no binding.
 */
export type SecretStatus = 0 | 1 | 2 | 3

export interface SecretNoDetail {
  readonly secretNo: string
  readonly poolKey: string
  readonly secretStatus: SecretStatus
}

export interface BindingDetail {
  readonly binding: Binding
  /** 1 in effect, 0 expired (QuerySubscriptionDetail's `Status`). */
  readonly status: 0 | 1
}

export interface UpdateRequest {
  readonly poolKey: string | undefined
  readonly subsId: string
  readonly phoneNoX: string
  readonly operateType: string
  readonly phoneNoA?: string | undefined
  readonly phoneNoB?: string | undefined
  readonly expiration?: string | undefined
  readonly callRestrict?: string | undefined
  readonly callDisplayType?: string | undefined
  readonly outId?: string | undefined
  readonly isRecordingEnabled?: string | undefined
}

export interface StateOptions {
  readonly pools?: ReadonlyArray<PoolConfig> | undefined
  /** How long an expired binding stays queryable before it is forgotten (SUBS_NOT_EXIST). Default 24 h. */
  readonly expiredRetentionMs?: number | undefined
}

const ONE_MINUTE_MS = 60_000
const SWEEP_EVERY_MS = 1_000
const CALL_RESTRICTS = new Set(["CONTROL_AX_DISABLE", "CONTROL_BX_DISABLE"])
/** Automatically assigned extensions are 3 digits so they never prefix one another. */
const AUTO_EXTENSIONS = Array.from({ length: 900 }, (_, i) => String(100 + i))

/** Checks pool configuration once, at start: legal unique numbers, no number in two pools. */
export const validatePools = (pools: ReadonlyArray<PoolConfig>): string | undefined => {
  const seen = new Set<string>()
  for (const p of pools) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(p.poolKey)) return `pool key ${JSON.stringify(p.poolKey)} is not 1-64 letters, digits, _ or -`
    for (const n of p.numbers) {
      if (!isLegalNumber(n)) return `pool ${p.poolKey}: ${JSON.stringify(n)} is not a legal number`
      if (seen.has(n)) return `number ${n} appears twice across pools`
      seen.add(n)
    }
  }
  return undefined
}

/** Demo pool plus configured pools; a configured pool with the demo key replaces it. */
export const effectivePools = (pools: ReadonlyArray<PoolConfig> = []): ReadonlyArray<PoolConfig> =>
  pools.some((p) => p.poolKey === DEMO_POOL_KEY) ? pools : [DEMO_POOL, ...pools]

export class BindingState {
  private readonly pools: ReadonlyMap<string, PoolConfig>
  private readonly poolOfNumber: ReadonlyMap<string, string>
  private readonly retentionMs: number
  private readonly rows = new Map<string, Row>()
  /** Bindings per X number (live or expired-but-remembered), for conflicts and allocation. */
  private readonly byX = new Map<string, Set<Row>>()
  /** X numbers locked (2) or frozen (3) through the control API. */
  private readonly xBlocked = new Map<string, 2 | 3>()
  private nextSubsId = 1_000_000_000_000_001n
  private lastSweep = Number.NEGATIVE_INFINITY

  constructor(options: StateOptions = {}) {
    const pools = effectivePools(options.pools)
    const invalid = validatePools(pools)
    if (invalid !== undefined) throw new Error(invalid)
    this.pools = new Map(pools.map((p) => [p.poolKey, p]))
    this.poolOfNumber = new Map(pools.flatMap((p) => p.numbers.map((n) => [n, p.poolKey] as const)))
    this.retentionMs = options.expiredRetentionMs ?? 24 * 3600_000
  }

  poolList(): ReadonlyArray<PoolConfig> {
    return [...this.pools.values()]
  }

  /** Drops every binding; SubsIds keep counting up so an old SubsId never names a new binding. */
  clear(): void {
    this.rows.clear()
    this.byX.clear()
    this.xBlocked.clear()
  }

  /** Locks (2) or freezes (3) an X, or with `undefined` makes it usable again. */
  setSecretStatus(secretNo: string, status: 2 | 3 | undefined): Outcome<SecretStatus | undefined> {
    if (!this.poolOfNumber.has(secretNo)) return fail("isv.NO_NOT_EXIST", `number not in any pool: ${secretNo}`)
    if (status === undefined) this.xBlocked.delete(secretNo)
    else this.xBlocked.set(secretNo, status)
    return ok(status)
  }

  /** QuerySecretNoDetail: the X's state in its pool. */
  querySecretNoDetail(poolKey: string | undefined, secretNo: string, now: number): Outcome<SecretNoDetail> {
    if (poolKey === undefined || !this.pools.has(poolKey)) return fail("isv.POOLKEY_NOT_EXISTS", `pool key not exists: ${poolKey ?? ""}`)
    if (this.poolOfNumber.get(secretNo) !== poolKey) return fail("isv.NO_NOT_EXIST", `number not in pool ${poolKey}: ${secretNo}`)
    const blocked = this.xBlocked.get(secretNo)
    return ok({ secretNo, poolKey, secretStatus: blocked ?? (this.hasLive(secretNo, now) ? 1 : 0) })
  }

  bindingCount(): number {
    return this.rows.size
  }

  /** Snapshots of every remembered binding, oldest first. */
  list(now: number, limit = Number.POSITIVE_INFINITY): ReadonlyArray<Binding> {
    this.sweep(now)
    const out: Array<Binding> = []
    for (const row of this.rows.values()) {
      if (out.length >= limit) break
      if (!this.forgotten(row, now)) out.push(snapshot(row))
    }
    return out
  }

  get(subsId: string, now: number): Binding | undefined {
    const row = this.find(subsId, now)
    return row === undefined ? undefined : snapshot(row)
  }

  /** BindAxb / BindAxn / BindAxnExtension: `expiration` is Beijing `yyyy-MM-dd HH:mm:ss`, at least 1 minute ahead. */
  bind(req: BindRequest & { readonly expiration: string }, now: number, wireOffsetMs = 0): Outcome<BoundNumber> {
    const invalid = this.checkRequest(req)
    if (invalid !== undefined) return invalid
    const expiresAt = this.checkExpiration(req.expiration, now, wireOffsetMs)
    return expiresAt.ok ? this.place(req, expiresAt.value, now) : expiresAt
  }

  /** Control-API binding: any positive lifetime, no 1-minute rule; otherwise the same checks as bind. */
  bindFor(req: BindRequest, ttlMs: number, now: number): Outcome<BoundNumber> {
    const invalid = this.checkRequest(req)
    if (invalid !== undefined) return invalid
    if (!(ttlMs > 0)) return fail("isv.EXPIRE_DATE_ILLEGAL", "ttl must be positive")
    return this.place(req, now + ttlMs, now)
  }

  queryCallStatus(poolKey: string | undefined, subsId: string, now: number): Outcome<CallStatusAnswer> {
    const row = this.lookup(poolKey, subsId, now)
    if (!row.ok) return row
    const b = row.value
    const extension = b.extension
    if (now >= b.expiresAt) return ok({ status: 4, calledNo: undefined, extension })
    // a locked or frozen X carries no call, and the platform has no temporary X for it
    if (this.xBlocked.has(b.phoneNoX)) return ok({ status: 3, calledNo: undefined, extension })
    if (b.callFault?.status === 2) return ok({ status: 2, calledNo: b.callFault.temporaryX, extension })
    if (b.callFault?.status === 3) return ok({ status: 3, calledNo: undefined, extension })
    return ok({ status: 1, calledNo: b.phoneNoX, extension })
  }

  querySubscriptionDetail(poolKey: string | undefined, subsId: string, phoneNoX: string, now: number): Outcome<BindingDetail> {
    const row = this.lookupOnX(poolKey, subsId, phoneNoX, now)
    if (!row.ok) return row
    return ok({ binding: snapshot(row.value), status: now < row.value.expiresAt ? 1 : 0 })
  }

  updateSubscription(req: UpdateRequest, now: number, wireOffsetMs = 0): Outcome<Binding> {
    const found = this.lookupOnX(req.poolKey, req.subsId, req.phoneNoX, now)
    if (!found.ok) return found
    const row = found.value
    if (now >= row.expiresAt) return fail("isv.FORBIDDEN_ACTION", "binding expired, update the binding")
    const missing = (param: string) => fail("isv.ILLEGAL_ARGUMENT", `${param} is required for OperateType ${req.operateType}`)
    switch (req.operateType) {
      case "updateNoA":
      case "updateNoB": {
        const isA = req.operateType === "updateNoA"
        const number = isA ? req.phoneNoA : req.phoneNoB
        if (number === undefined) return missing(isA ? "PhoneNoA" : "PhoneNoB")
        if (!isLegalNumber(number)) return fail("isv.MOBILE_NUMBER_ILLEGAL", `illegal number: ${number}`)
        if (row.mode === "AXB") {
          const parties = isA ? [number, row.phoneNoB] : [row.phoneNoA, number]
          const conflict = this.conflictOnX(row.phoneNoX, "AXB", parties, undefined, now, row)
          if (conflict !== undefined) return fail("isv.BIND_CONFLICT", conflict)
        }
        if (isA) row.phoneNoA = number
        else row.phoneNoB = number
        break
      }
      case "updateExpire": {
        if (req.expiration === undefined) return missing("Expiration")
        const expiresAt = this.checkExpiration(req.expiration, now, wireOffsetMs)
        if (!expiresAt.ok) return expiresAt
        row.expiresAt = expiresAt.value
        break
      }
      case "updateCallRestrict": {
        if (req.callRestrict === undefined) return missing("CallRestrict")
        if (req.callRestrict === "CONTROL_CLEAR_DISABLE") row.extras = { ...row.extras, callRestrict: undefined }
        else if (CALL_RESTRICTS.has(req.callRestrict)) row.extras = { ...row.extras, callRestrict: req.callRestrict }
        else return fail("isv.ILLEGAL_ARGUMENT", `illegal CallRestrict: ${req.callRestrict}`)
        break
      }
      case "updateCallDisplayType": {
        if (req.callDisplayType === undefined) return missing("CallDisplayType")
        if (req.callDisplayType !== "1") return fail("isv.ILLEGAL_ARGUMENT", "CallDisplayType only supports 1")
        row.extras = { ...row.extras, callDisplayType: 1 }
        break
      }
      case "updateOutId": {
        if (req.outId === undefined) return missing("OutId")
        row.extras = { ...row.extras, outId: req.outId }
        break
      }
      case "updateIsRecordingEnabled": {
        if (req.isRecordingEnabled === undefined) return missing("IsRecordingEnabled")
        row.extras = { ...row.extras, needRecord: req.isRecordingEnabled === "true" }
        break
      }
      case "updateAxgGroup":
        return fail("isv.FORBIDDEN_ACTION", "the pool is not an AXG pool")
      default:
        return fail("isv.ILLEGAL_ARGUMENT", `unsupported OperateType: ${req.operateType}`)
    }
    return ok(snapshot(row))
  }

  unbind(poolKey: string | undefined, subsId: string, secretNo: string, now: number): Outcome<Binding> {
    const found = this.lookupOnX(poolKey, subsId, secretNo, now)
    if (!found.ok) return found
    this.remove(found.value)
    return ok(snapshot(found.value))
  }

  /**
   * Sets (or with `undefined` clears) the call fault QueryCallStatus reports. Status 2 without a
   * temporary X takes the first pool number, other than the binding's X, that holds no live binding.
   */
  setCallFault(subsId: string, fault: { readonly status: 2; readonly temporaryX?: string | undefined } | { readonly status: 3 } | undefined, now: number): Outcome<CallFault | undefined> {
    const row = this.find(subsId, now)
    if (row === undefined) return fail("isv.SUBS_NOT_EXIST", `no binding ${subsId}`)
    if (fault === undefined || fault.status === 3) {
      row.callFault = fault
      return ok(fault)
    }
    let temporaryX = fault.temporaryX
    if (temporaryX !== undefined && !isLegalNumber(temporaryX)) return fail("isv.MOBILE_NUMBER_ILLEGAL", `illegal number: ${temporaryX}`)
    temporaryX ??= this.pools.get(row.poolKey)?.numbers.find((x) => x !== row.phoneNoX && !this.hasLive(x, now))
    if (temporaryX === undefined) return fail("isv.NO_AVAILABLE_NUMBER", "no free X in the pool to serve as temporary X")
    row.callFault = { status: 2, temporaryX }
    return ok(row.callFault)
  }

  private checkExpiration(expiration: string, now: number, wireOffsetMs: number): Outcome<number> {
    const wall = parseBeijing(expiration)
    if (wall === undefined) return fail("isv.EXPIRE_DATE_ILLEGAL", "expireDate format illegal, expect yyyy-MM-dd HH:mm:ss")
    const at = wall + wireOffsetMs
    if (at - now < ONE_MINUTE_MS) return fail("isv.EXPIRE_DATE_ILLEGAL", "expireDate less than 1 minutes from now")
    return ok(at)
  }

  /** Checks that need no state but the pools; they come before the expiration check. */
  private checkRequest(req: BindRequest): Outcome<never> | undefined {
    if (req.poolKey === undefined || !this.pools.has(req.poolKey)) return fail("isv.POOLKEY_NOT_EXISTS", `pool key not exists: ${req.poolKey ?? ""}`)
    for (const n of [req.phoneNoA, req.phoneNoB, req.phoneNoX]) {
      if (n !== undefined && !isLegalNumber(n)) return fail("isv.MOBILE_NUMBER_ILLEGAL", `illegal number: ${n}`)
    }
    if (req.mode === "AXB" && req.phoneNoB === undefined) return fail("isv.ILLEGAL_ARGUMENT", "PhoneNoB is required for AXB")
    if (req.extension !== undefined) {
      if (req.mode !== "AXN_EXTENSION") return fail("isv.ILLEGAL_ARGUMENT", "Extension is only for AXN extension bindings")
      if (!/^\d{1,3}$/.test(req.extension)) return fail("isv.ILLEGAL_ARGUMENT", "Extension must be 1-3 digits")
      if (req.phoneNoX === undefined) return fail("isv.ILLEGAL_ARGUMENT", "Extension requires PhoneNoX")
    }
    return undefined
  }

  private place(req: BindRequest, expiresAt: number, now: number): Outcome<BoundNumber> {
    this.sweep(now)
    const chosen = this.chooseX(req, now)
    if (!chosen.ok) return chosen
    const [x, extension] = chosen.value
    const row: Row = {
      subsId: (this.nextSubsId++).toString(),
      poolKey: req.poolKey!,
      mode: req.mode,
      phoneNoA: req.phoneNoA,
      phoneNoB: req.phoneNoB,
      phoneNoX: x,
      extension,
      createdAt: now,
      expiresAt,
      callFault: undefined,
      extras: req.extras ?? {}
    }
    this.rows.set(row.subsId, row)
    let onX = this.byX.get(x)
    if (onX === undefined) this.byX.set(x, (onX = new Set()))
    onX.add(row)
    return ok({ subsId: row.subsId, secretNo: x, extension, expiresAt })
  }

  /** The requested X (if free for this binding) or the first one of the pool that is; plus the extension. */
  private chooseX(req: BindRequest, now: number): Outcome<readonly [string, string | undefined]> {
    const pool = this.pools.get(req.poolKey!)!
    const parties = [req.phoneNoA, req.phoneNoB]
    const x = req.phoneNoX
    if (x === undefined) {
      const found = this.allocate(pool, req.mode, parties, now)
      return found === undefined ? fail("isv.NO_AVAILABLE_NUMBER", "no available number in the pool") : ok(found)
    }
    if (this.poolOfNumber.get(x) !== pool.poolKey) return fail("isv.NO_NOT_EXIST", `number not in pool ${pool.poolKey}: ${x}`)
    if (this.xBlocked.has(x)) return fail("isv.NO_USED_BY_OTHERS", `${x} is locked or frozen`)
    const conflict = this.conflictOnX(x, req.mode, parties, req.extension, now)
    if (conflict !== undefined) return fail("isv.BIND_CONFLICT", conflict)
    if (req.mode !== "AXN_EXTENSION") return ok([x, undefined])
    const extension = req.extension ?? this.freeExtension(x, now)
    return extension === undefined ? fail("isv.NO_AVAILABLE_NUMBER", `no free extension on ${x}`) : ok([x, extension])
  }

  /** First X of the pool, in pool order, that can carry the new binding. */
  private allocate(pool: PoolConfig, mode: BindingMode, parties: ReadonlyArray<string | undefined>, now: number): readonly [string, string | undefined] | undefined {
    for (const x of pool.numbers) {
      if (this.xBlocked.has(x) || this.conflictOnX(x, mode, parties, undefined, now) !== undefined) continue
      if (mode !== "AXN_EXTENSION") return [x, undefined]
      const extension = this.freeExtension(x, now)
      if (extension !== undefined) return [x, extension]
    }
    return undefined
  }

  /**
   * Why a new binding cannot go on X, or undefined when it can. AXB shares X between pairs that have no
   * party in common; AXN dedicates X to A; AXN extension shares X between distinct extensions. Only live
   * bindings count: an expired one no longer holds its X.
   */
  private conflictOnX(x: string, mode: BindingMode, parties: ReadonlyArray<string | undefined>, extension: string | undefined, now: number, self?: Row): string | undefined {
    for (const other of this.byX.get(x) ?? []) {
      if (other === self || now >= other.expiresAt) continue
      if (mode === "AXN" || mode === "AX") return `${x} is already bound`
      if (mode === "AXB") {
        if (other.mode !== "AXB") return `${x} is dedicated to an ${other.mode} binding`
        if (parties.some((p) => p !== undefined && (p === other.phoneNoA || p === other.phoneNoB))) return `A or B is already bound to ${x}`
      } else {
        if (other.mode !== "AXN_EXTENSION") return `${x} is held by an ${other.mode} binding`
        if (extension !== undefined && other.extension === extension) return `extension ${extension} is already bound on ${x}`
      }
    }
    return undefined
  }

  private freeExtension(x: string, now: number): string | undefined {
    const used = new Set<string>()
    for (const b of this.byX.get(x) ?? []) if (now < b.expiresAt && b.extension !== undefined) used.add(b.extension)
    return AUTO_EXTENSIONS.find((e) => !used.has(e))
  }

  private hasLive(x: string, now: number): boolean {
    for (const b of this.byX.get(x) ?? []) if (now < b.expiresAt) return true
    return false
  }

  private lookup(poolKey: string | undefined, subsId: string, now: number): Outcome<Row> {
    if (poolKey === undefined || !this.pools.has(poolKey)) return fail("isv.POOLKEY_NOT_EXISTS", `pool key not exists: ${poolKey ?? ""}`)
    const row = this.find(subsId, now)
    if (row === undefined || row.poolKey !== poolKey) return fail("isv.SUBS_NOT_EXIST", "subscription not exist")
    return ok(row)
  }

  private lookupOnX(poolKey: string | undefined, subsId: string, phoneNoX: string, now: number): Outcome<Row> {
    const row = this.lookup(poolKey, subsId, now)
    if (row.ok && row.value.phoneNoX !== phoneNoX) return fail("isv.SUBS_NOT_EXIST", "subscription not exist for this X number")
    return row
  }

  private find(subsId: string, now: number): Row | undefined {
    const row = this.rows.get(subsId)
    if (row === undefined || !this.forgotten(row, now)) return row
    this.remove(row)
    return undefined
  }

  private forgotten(row: Row, now: number): boolean {
    return now >= row.expiresAt + this.retentionMs
  }

  private remove(row: Row): void {
    this.rows.delete(row.subsId)
    const onX = this.byX.get(row.phoneNoX)
    onX?.delete(row)
    if (onX?.size === 0) this.byX.delete(row.phoneNoX)
  }

  /** Forgets long-expired bindings, at most once a second of emulator time, so memory stays bounded. */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS && now >= this.lastSweep) return
    this.lastSweep = now
    for (const row of this.rows.values()) if (this.forgotten(row, now)) this.remove(row)
  }
}

const snapshot = (row: Row): Binding => ({ ...row })

