/**
 * Model-based test of the binding lifecycle: random command sequences run against the pure state
 * module and against a deliberately naive model (plain arrays, linear scans), compared at each step.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { formatBeijing } from "../../src/emulator/aliyun/clock.ts"
import { BindingState } from "../../src/emulator/aliyun/state.ts"
import type { BindingMode, Outcome } from "../../src/emulator/aliyun/state.ts"

const POOL = "FCTEST"
const XS = ["17100000000", "17100000001", "17100000002"]
const PARTIES = ["13800000001", "13800000002", "13800000003", "02012345678"]
const ILLEGAL = "12345"
const RETENTION_MS = 3600_000
const T0 = Date.UTC(2026, 0, 2, 3, 4, 0)

type Fault = { status: 2; temporaryX: string } | { status: 3 }
interface ModelBinding {
  readonly subsId: string
  readonly mode: BindingMode
  a: string
  b: string | undefined
  readonly x: string
  readonly ext: string | undefined
  expiresAt: number
  fault: Fault | undefined
}

class Model {
  now = T0
  bindings: Array<ModelBinding> = []
  /** Every SubsId ever returned, so commands also hit unbound and forgotten ones. */
  known: Array<string> = []

  live(b: ModelBinding): boolean {
    return this.now < b.expiresAt
  }
  forgetOld(): void {
    this.bindings = this.bindings.filter((b) => this.now < b.expiresAt + RETENTION_MS)
  }
  find(subsId: string): ModelBinding | undefined {
    this.forgetOld()
    return this.bindings.find((b) => b.subsId === subsId)
  }
  liveOn(x: string, except?: ModelBinding): Array<ModelBinding> {
    return this.bindings.filter((b) => b.x === x && b !== except && this.live(b))
  }
  fits(x: string, mode: BindingMode, parties: ReadonlyArray<string | undefined>, ext: string | undefined, except?: ModelBinding): boolean {
    const others = this.liveOn(x, except)
    if (mode === "AXN") return others.length === 0
    if (mode === "AXB") return others.every((o) => o.mode === "AXB" && !parties.some((p) => p !== undefined && (p === o.a || p === o.b)))
    return others.every((o) => o.mode === "AXN_EXTENSION" && (ext === undefined || o.ext !== ext))
  }
  lowestFreeExt(x: string): string | undefined {
    for (let e = 100; e <= 999; e++) if (!this.liveOn(x).some((o) => o.ext === String(e))) return String(e)
    return undefined
  }
}

interface Real {
  readonly state: BindingState
}

const legal = (n: string | undefined) => n === undefined || /^(1[3-9]\d{9}|0\d{9,11})$/.test(n)
const codeOf = <A>(o: Outcome<A>): string => (o.ok ? "OK" : o.code)
const pick = (list: ReadonlyArray<string>, i: number): string => list.length === 0 ? "1000000000009999" : list[i % list.length]!

class Bind implements fc.Command<Model, Real> {
  readonly mode: BindingMode
  readonly pool: string
  readonly a: string
  readonly b: string | undefined
  readonly x: string | undefined
  readonly ext: string | undefined
  readonly ttl: number
  constructor(mode: BindingMode, pool: string, a: string, b: string | undefined, x: string | undefined, ext: string | undefined, ttl: number) {
    this.mode = mode
    this.pool = pool
    this.a = a
    this.b = b
    this.x = x
    this.ext = ext
    this.ttl = ttl
  }
  check = () => true
  run(m: Model, r: Real): void {
    m.forgetOld()
    const got = r.state.bind(
      { mode: this.mode, poolKey: this.pool, phoneNoA: this.a, phoneNoB: this.b, phoneNoX: this.x, extension: this.ext, expiration: formatBeijing(m.now + this.ttl * 1000) },
      m.now
    )
    const expected = ((): string | readonly [string, string | undefined] => {
      if (this.pool !== POOL) return "isv.POOLKEY_NOT_EXISTS"
      if (![this.a, this.b, this.x].every(legal)) return "isv.MOBILE_NUMBER_ILLEGAL"
      if (this.mode === "AXB" && this.b === undefined) return "isv.ILLEGAL_ARGUMENT"
      if (this.ext !== undefined && (this.mode !== "AXN_EXTENSION" || this.x === undefined)) return "isv.ILLEGAL_ARGUMENT"
      if (this.ttl < 60) return "isv.EXPIRE_DATE_ILLEGAL"
      const parties = [this.a, this.b]
      if (this.x !== undefined) {
        if (!XS.includes(this.x)) return "isv.NO_NOT_EXIST"
        if (!m.fits(this.x, this.mode, parties, this.ext)) return "isv.BIND_CONFLICT"
        if (this.mode !== "AXN_EXTENSION") return [this.x, undefined]
        const ext = this.ext ?? m.lowestFreeExt(this.x)
        return ext === undefined ? "isv.NO_AVAILABLE_NUMBER" : [this.x, ext]
      }
      for (const x of XS) {
        if (!m.fits(x, this.mode, parties, undefined)) continue
        if (this.mode !== "AXN_EXTENSION") return [x, undefined]
        const ext = m.lowestFreeExt(x)
        if (ext !== undefined) return [x, ext]
      }
      return "isv.NO_AVAILABLE_NUMBER"
    })()
    if (typeof expected === "string") {
      expect(codeOf(got)).toBe(expected)
      return
    }
    if (!got.ok) throw new Error(`expected a binding on ${expected[0]}, got ${got.code}: ${got.message}`)
    expect([got.value.secretNo, got.value.extension]).toEqual(expected)
    expect(got.value.subsId).toMatch(/^\d{16}$/)
    expect(m.known).not.toContain(got.value.subsId)
    m.known.push(got.value.subsId)
    m.bindings.push({ subsId: got.value.subsId, mode: this.mode, a: this.a, b: this.b, x: expected[0], ext: expected[1], expiresAt: Math.floor((m.now + this.ttl * 1000) / 1000) * 1000, fault: undefined })
  }
  toString = () => `Bind(${this.mode}, ${this.pool}, ${this.a}, ${this.b}, x=${this.x}, ext=${this.ext}, ttl=${this.ttl})`
}

class QueryStatus implements fc.Command<Model, Real> {
  readonly i: number
  constructor(i: number) {
    this.i = i
  }
  check = () => true
  run(m: Model, r: Real): void {
    const subsId = pick(m.known, this.i)
    const got = r.state.queryCallStatus(POOL, subsId, m.now)
    const b = m.find(subsId)
    if (b === undefined) return void expect(codeOf(got)).toBe("isv.SUBS_NOT_EXIST")
    const expected = !m.live(b)
      ? { status: 4, calledNo: undefined }
      : b.fault?.status === 2
      ? { status: 2, calledNo: b.fault.temporaryX }
      : b.fault?.status === 3
      ? { status: 3, calledNo: undefined }
      : { status: 1, calledNo: b.x }
    expect(got).toEqual({ ok: true, value: { ...expected, extension: b.ext } })
  }
  toString = () => `QueryStatus(${this.i})`
}

class QueryDetail implements fc.Command<Model, Real> {
  readonly i: number
  readonly wrongX: boolean
  constructor(i: number, wrongX: boolean) {
    this.i = i
    this.wrongX = wrongX
  }
  check = () => true
  run(m: Model, r: Real): void {
    const subsId = pick(m.known, this.i)
    const b = m.find(subsId)
    const x = b === undefined || this.wrongX ? "17199999999" : b.x
    const got = r.state.querySubscriptionDetail(POOL, subsId, x, m.now)
    if (b === undefined || this.wrongX) return void expect(codeOf(got)).toBe("isv.SUBS_NOT_EXIST")
    if (!got.ok) throw new Error(`detail of ${subsId}: ${got.code}`)
    const d = got.value
    expect([d.status, d.binding.phoneNoA, d.binding.phoneNoB, d.binding.phoneNoX, d.binding.extension, d.binding.expiresAt]).toEqual([
      m.live(b) ? 1 : 0, b.a, b.b, b.x, b.ext, b.expiresAt
    ])
  }
  toString = () => `QueryDetail(${this.i}, wrongX=${this.wrongX})`
}

class Update implements fc.Command<Model, Real> {
  readonly i: number
  readonly op: "updateNoA" | "updateNoB" | "updateExpire"
  readonly number: string
  readonly ttl: number
  constructor(i: number, op: "updateNoA" | "updateNoB" | "updateExpire", number: string, ttl: number) {
    this.i = i
    this.op = op
    this.number = number
    this.ttl = ttl
  }
  check = () => true
  run(m: Model, r: Real): void {
    const subsId = pick(m.known, this.i)
    const b = m.find(subsId)
    const got = r.state.updateSubscription(
      {
        poolKey: POOL,
        subsId,
        phoneNoX: b?.x ?? XS[0]!,
        operateType: this.op,
        phoneNoA: this.op === "updateNoA" ? this.number : undefined,
        phoneNoB: this.op === "updateNoB" ? this.number : undefined,
        expiration: this.op === "updateExpire" ? formatBeijing(m.now + this.ttl * 1000) : undefined
      },
      m.now
    )
    const expected = ((): string => {
      if (b === undefined) return "isv.SUBS_NOT_EXIST"
      if (!m.live(b)) return "isv.FORBIDDEN_ACTION"
      if (this.op === "updateExpire") return this.ttl < 60 ? "isv.EXPIRE_DATE_ILLEGAL" : "OK"
      if (!legal(this.number)) return "isv.MOBILE_NUMBER_ILLEGAL"
      const parties = this.op === "updateNoA" ? [this.number, b.b] : [b.a, this.number]
      return b.mode === "AXB" && !m.fits(b.x, "AXB", parties, undefined, b) ? "isv.BIND_CONFLICT" : "OK"
    })()
    expect(codeOf(got)).toBe(expected)
    if (expected !== "OK" || b === undefined) return
    if (this.op === "updateNoA") b.a = this.number
    else if (this.op === "updateNoB") b.b = this.number
    else b.expiresAt = Math.floor((m.now + this.ttl * 1000) / 1000) * 1000
  }
  toString = () => `Update(${this.i}, ${this.op}, ${this.number}, ttl=${this.ttl})`
}

class Unbind implements fc.Command<Model, Real> {
  readonly i: number
  readonly wrongX: boolean
  constructor(i: number, wrongX: boolean) {
    this.i = i
    this.wrongX = wrongX
  }
  check = () => true
  run(m: Model, r: Real): void {
    const subsId = pick(m.known, this.i)
    const b = m.find(subsId)
    const got = r.state.unbind(POOL, subsId, b === undefined || this.wrongX ? "17199999999" : b.x, m.now)
    if (b === undefined || this.wrongX) return void expect(codeOf(got)).toBe("isv.SUBS_NOT_EXIST")
    expect(codeOf(got)).toBe("OK")
    m.bindings = m.bindings.filter((o) => o !== b)
  }
  toString = () => `Unbind(${this.i}, wrongX=${this.wrongX})`
}

class AdvanceClock implements fc.Command<Model, Real> {
  readonly seconds: number
  constructor(seconds: number) {
    this.seconds = seconds
  }
  check = () => true
  run(m: Model, r: Real): void {
    m.now += this.seconds * 1000
    m.forgetOld()
    expect(r.state.list(m.now).map((b) => b.subsId)).toEqual(m.bindings.map((b) => b.subsId))
  }
  toString = () => `AdvanceClock(${this.seconds})`
}

/** Jumps to just before, at or just after a binding's expiry or forgetting time: the boundaries random steps rarely hit. */
class AdvanceToBoundary implements fc.Command<Model, Real> {
  readonly i: number
  readonly forget: boolean
  readonly deltaSeconds: -1 | 0 | 1
  constructor(i: number, forget: boolean, deltaSeconds: -1 | 0 | 1) {
    this.i = i
    this.forget = forget
    this.deltaSeconds = deltaSeconds
  }
  check = (m: Readonly<Model>) => m.bindings.length > 0
  run(m: Model, r: Real): void {
    const b = m.bindings[this.i % m.bindings.length]!
    const target = b.expiresAt + (this.forget ? RETENTION_MS : 0) + this.deltaSeconds * 1000
    if (target > m.now) new AdvanceClock((target - m.now) / 1000).run(m, r)
  }
  toString = () => `AdvanceToBoundary(${this.i}, forget=${this.forget}, ${this.deltaSeconds})`
}

class SetFault implements fc.Command<Model, Real> {
  readonly i: number
  readonly status: 2 | 3 | null
  readonly temporaryX: string | undefined
  constructor(i: number, status: 2 | 3 | null, temporaryX: string | undefined) {
    this.i = i
    this.status = status
    this.temporaryX = temporaryX
  }
  check = () => true
  run(m: Model, r: Real): void {
    const subsId = pick(m.known, this.i)
    const b = m.find(subsId)
    const fault = this.status === null ? undefined : this.status === 3 ? { status: 3 as const } : { status: 2 as const, temporaryX: this.temporaryX }
    const got = r.state.setCallFault(subsId, fault, m.now)
    if (b === undefined) return void expect(codeOf(got)).toBe("isv.SUBS_NOT_EXIST")
    if (this.status !== 2) {
      expect(codeOf(got)).toBe("OK")
      b.fault = this.status === 3 ? { status: 3 } : undefined
      return
    }
    const temporaryX = this.temporaryX ?? XS.find((x) => x !== b.x && m.liveOn(x).length === 0)
    if (temporaryX === undefined) return void expect(codeOf(got)).toBe("isv.NO_AVAILABLE_NUMBER")
    expect(got).toEqual({ ok: true, value: { status: 2, temporaryX } })
    b.fault = { status: 2, temporaryX }
  }
  toString = () => `SetFault(${this.i}, ${this.status}, ${this.temporaryX})`
}

const party = fc.constantFrom(...PARTIES)
const absent = fc.constant(undefined)
/** Absent 1 time in 10 / 3 times in 4. */
const rarelyAbsent = <A>(a: fc.Arbitrary<A>) => fc.oneof({ weight: 9, arbitrary: a }, { weight: 1, arbitrary: absent })
const oftenAbsent = <A>(a: fc.Arbitrary<A>) => fc.oneof({ weight: 1, arbitrary: a }, { weight: 3, arbitrary: absent })
const index = fc.nat({ max: 50 })
const ttl = fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 1, max: 59 }) }, { weight: 9, arbitrary: fc.integer({ min: 60, max: 7200 }) })

const bind = fc
  .record({
    mode: fc.constantFrom<BindingMode>("AXB", "AXN", "AXN_EXTENSION"),
    pool: fc.oneof({ weight: 19, arbitrary: fc.constant(POOL) }, { weight: 1, arbitrary: fc.constant("FCNOPE") }),
    a: fc.oneof({ weight: 19, arbitrary: party }, { weight: 1, arbitrary: fc.constant(ILLEGAL) }),
    b: rarelyAbsent(party),
    x: oftenAbsent(fc.constantFrom(...XS, "17199999999")),
    ext: oftenAbsent(fc.constantFrom("1", "100", "101", "7")),
    ttl
  })
  .map(({ mode, pool, a, b, x, ext, ttl }) => new Bind(mode, pool, a, b, x, ext, ttl))

const commands = [
  bind,
  bind,
  bind,
  index.map((i) => new QueryStatus(i)),
  fc.tuple(index, fc.boolean()).map(([i, w]) => new QueryDetail(i, w)),
  fc.tuple(index, fc.constantFrom("updateNoA" as const, "updateNoB" as const, "updateExpire" as const), fc.constantFrom(...PARTIES, ILLEGAL), ttl)
    .map(([i, op, n, t]) => new Update(i, op, n, t)),
  fc.tuple(index, fc.boolean()).map(([i, w]) => new Unbind(i, w)),
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 300, max: 5400 }) })
    .map((s) => new AdvanceClock(s)),
  fc.tuple(index, fc.boolean(), fc.constantFrom(-1 as const, 0 as const, 1 as const)).map(([i, f, d]) => new AdvanceToBoundary(i, f, d)),
  fc.tuple(index, fc.constantFrom(2 as const, 3 as const, null), oftenAbsent(fc.constantFrom("13900000009", XS[1]!)))
    .map(([i, s, t]) => new SetFault(i, s, t))
]

describe("binding state (model-based)", () => {
  it("agrees with the model over random command sequences", () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80, size: "max" }), (cmds) => {
        const setup = () => ({
          model: new Model(),
          real: { state: new BindingState({ pools: [{ poolKey: POOL, numbers: XS }], expiredRetentionMs: RETENTION_MS }) }
        })
        fc.modelRun(setup, cmds)
      }),
      { numRuns: 200, seed: 20260102 }
    )
  })
})
