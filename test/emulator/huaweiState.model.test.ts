/**
 * Model-based test of the Huawei binding state: random command sequences (bind, modify, query,
 * unbind, X status, advance the clock) run against state.ts and against a deliberately naive model
 * (one array, linear scans, expiry as a filter), compared at every step.
 */
import { describe, expect, it } from "vitest"
import * as fc from "fast-check"
import { BindingState } from "../../src/emulator/huawei/state.ts"
import type { AxbBinding, Outcome, XStatus } from "../../src/emulator/huawei/state.ts"
import type { ResolvedPoolNumber } from "../../src/emulator/huawei/options.ts"

const POOL: ReadonlyArray<ResolvedPoolNumber> = [
  { number: "+8617000000001", areaCode: "0755", province: "Guangdong", appKey: "axb" },
  { number: "+8617000000002", areaCode: "020", province: "Guangdong", appKey: "axb" },
  { number: "+8617000000003", areaCode: "010", province: "Beijing", appKey: "axb" },
  { number: "+8617000000101", areaCode: "0755", province: "Guangdong", appKey: "ax" },
  { number: "+8617000000102", areaCode: "010", province: "Beijing", appKey: "ax" }
]
const XS = [...POOL.map((n) => n.number), "+8617099999999"]
const PARTIES = ["+8613800000001", "+8613800000002", "+8613800000003", "+8613800000004"]
const AREAS = [undefined, "0755", "020", "010", "0571"]
const T0 = Date.UTC(2026, 0, 2, 3, 4, 0)

interface ModelBinding {
  readonly id: string
  readonly kind: "AXB" | "AX"
  a: string
  b: string
  readonly x: string
  duration: number
  expiresAt: number
}

/** The naive model: a list of bindings ever made, each live while now < expiresAt, and X statuses. */
class Model {
  now = T0
  bindings: Array<ModelBinding> = []
  status = new Map<string, XStatus>(POOL.map((n) => [n.number, "5"]))
  known: Array<string> = []

  live(): Array<ModelBinding> {
    return this.bindings.filter((b) => this.now < b.expiresAt)
  }
  find(id: string): ModelBinding | undefined {
    return this.live().find((b) => b.id === id)
  }
  clash(x: string, parties: ReadonlyArray<string>, except?: string): boolean {
    return this.live().some((o) => o.kind === "AXB" && o.x === x && o.id !== except && parties.some((p) => p === o.a || p === o.b))
  }
  remove(ids: ReadonlyArray<string>): void {
    this.bindings = this.bindings.filter((b) => !ids.includes(b.id))
  }
}

type Command =
  | { readonly kind: "bindAxb"; readonly a: number; readonly b: number; readonly x: number | undefined; readonly area: number; readonly strict: boolean; readonly duration: number }
  | { readonly kind: "modifyAxb"; readonly i: number; readonly a: number | undefined; readonly duration: number | undefined }
  | { readonly kind: "queryAxb"; readonly i: number }
  | { readonly kind: "queryAxbByX"; readonly x: number }
  | { readonly kind: "unbindAxb"; readonly i: number }
  | { readonly kind: "unbindAxbByX"; readonly x: number }
  | { readonly kind: "bindAx"; readonly a: number; readonly x: number | undefined }
  | { readonly kind: "unbindAx"; readonly i: number }
  | { readonly kind: "setStatus"; readonly x: number; readonly status: XStatus }
  | { readonly kind: "advance"; readonly seconds: number }

const party = fc.nat({ max: PARTIES.length - 1 })
const xIndex = fc.nat({ max: XS.length - 1 })
const index = fc.nat({ max: 6 })
const duration = fc.constantFrom(0, 30, 60, 120)
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant("bindAxb" as const), a: party, b: party, x: fc.option(xIndex, { nil: undefined }), area: fc.nat({ max: AREAS.length - 1 }), strict: fc.boolean(), duration }),
  fc.record({ kind: fc.constant("modifyAxb" as const), i: index, a: fc.option(party, { nil: undefined }), duration: fc.option(duration, { nil: undefined }) }),
  fc.record({ kind: fc.constant("queryAxb" as const), i: index }),
  fc.record({ kind: fc.constant("queryAxbByX" as const), x: xIndex }),
  fc.record({ kind: fc.constant("unbindAxb" as const), i: index }),
  fc.record({ kind: fc.constant("unbindAxbByX" as const), x: xIndex }),
  fc.record({ kind: fc.constant("bindAx" as const), a: party, x: fc.option(xIndex, { nil: undefined }) }),
  fc.record({ kind: fc.constant("unbindAx" as const), i: index }),
  fc.record({ kind: fc.constant("setStatus" as const), x: fc.nat({ max: POOL.length - 1 }), status: fc.constantFrom<XStatus>("5", "5", "9", "11") }),
  fc.record({ kind: fc.constant("advance" as const), seconds: fc.constantFrom(0, 10, 30, 59, 60, 61, 150) })
)

const codeOf = <A>(o: Outcome<A>): string => (o.ok ? "0" : o.code)
/** The i-th most recent id: recent bindings are the ones most likely still live. */
const pick = (m: Model, i: number): string => m.known.length === 0 ? "never-made" : m.known[m.known.length - 1 - (i % m.known.length)]!

/** Where the platform puts a new AXB pair when no X is named (state.ts rules, written out plainly). */
const expectedX = (m: Model, app: string, areaCode: string | undefined, strict: boolean, fits: (x: string) => boolean): string | undefined => {
  const candidates = POOL.filter((n) => n.appKey === app && m.status.get(n.number) === "5" && fits(n.number))
  if (areaCode === undefined) return candidates[0]?.number
  const inCity = candidates.find((n) => n.areaCode === areaCode)
  if (inCity !== undefined || strict) return inCity?.number
  const province = POOL.find((n) => n.areaCode === areaCode)?.province
  return (candidates.find((n) => n.province === province) ?? candidates[0])?.number
}

const explicitX = (m: Model, app: string, x: string, notOwned: string): string | undefined => {
  const n = POOL.find((p) => p.number === x)
  if (n === undefined) return "1011001"
  if (n.appKey !== app) return notOwned
  return m.status.get(x) !== "5" ? "1012102" : undefined
}

const step = (m: Model, s: BindingState, c: Command): void => {
  const expiry = (d: number) => (d === 0 ? Infinity : m.now + d * 1000)
  switch (c.kind) {
    case "bindAxb": {
      const [a, b] = [PARTIES[c.a]!, PARTIES[(c.a + 1 + (c.b % (PARTIES.length - 1))) % PARTIES.length]!] // always two different parties
      const x = c.x === undefined ? undefined : XS[c.x]!
      const areaCode = AREAS[c.area]
      const got = s.bindAxb("axb", {
        relationNum: x, areaCode, areaMatchMode: c.strict ? "0" : "1", callerNum: a, calleeNum: b, callDirection: 0, duration: c.duration,
        maxDuration: 0, lastMinVoice: undefined, recordFlag: false, recordHintTone: undefined, privateSms: undefined, preVoice: undefined, userData: undefined
      }, m.now)
      let expected: string
      let on: string | undefined
      if (x !== undefined) {
        expected = explicitX(m, "axb", x, "1012001") ?? (m.clash(x, [a, b]) ? "1012010" : "0")
        on = x
      } else {
        on = expectedX(m, "axb", areaCode, c.strict, (n) => !m.clash(n, [a, b]))
        expected = on === undefined ? "1012008" : "0"
      }
      expect(codeOf(got)).toBe(expected)
      if (got.ok) {
        expect(got.value.relationNum).toBe(on)
        m.known.push(got.value.subscriptionId)
        m.bindings.push({ id: got.value.subscriptionId, kind: "AXB", a, b, x: on!, duration: c.duration, expiresAt: expiry(c.duration) })
      }
      return
    }
    case "modifyAxb": {
      const id = pick(m, c.i)
      const a = c.a === undefined ? undefined : PARTIES[c.a]!
      const got = s.modifyAxb("axb", id, { callerNum: a, duration: c.duration }, m.now)
      const b = m.find(id)
      const expected = b === undefined || b.kind !== "AXB" ? "1012007"
        : a !== undefined && a === b.b ? "1010002"
        : a !== undefined && m.clash(b.x, [a, b.b], id) ? "1012010"
        : "0"
      expect(codeOf(got)).toBe(expected)
      if (got.ok) {
        if (a !== undefined) b!.a = a
        if (c.duration !== undefined) {
          b!.duration = c.duration
          b!.expiresAt = expiry(c.duration)
        }
      }
      return
    }
    case "queryAxb": {
      const id = pick(m, c.i)
      const got = s.queryAxb("axb", { subscriptionId: id, pageIndex: 1, pageSize: 50 }, m.now)
      const b = m.find(id)
      if (b === undefined || b.kind !== "AXB") return void expect(codeOf(got)).toBe("1012007")
      if (!got.ok) throw new Error(`query ${id}: ${got.code}`)
      const item: AxbBinding = got.value.items[0]!
      expect([got.value.totalCount, item.callerNum, item.calleeNum, item.relationNum, item.duration, item.expiresAt]).toEqual([1, b.a, b.b, b.x, b.duration, b.expiresAt])
      return
    }
    case "queryAxbByX": {
      const x = XS[c.x]!
      const got = s.queryAxb("axb", { relationNum: x, pageIndex: 1, pageSize: 100 }, m.now)
      const on = m.live().filter((b) => b.kind === "AXB" && b.x === x).map((b) => b.id)
      if (on.length === 0) return void expect(codeOf(got)).toBe("1012007")
      expect(got.ok && got.value.items.map((b) => b.subscriptionId)).toEqual(on)
      return
    }
    case "unbindAxb":
    case "unbindAxbByX": {
      const q = c.kind === "unbindAxb" ? { subscriptionId: pick(m, c.i) } : { relationNum: XS[c.x]! }
      const got = s.unbindAxb("axb", q, m.now)
      const gone = m.live().filter((b) => b.kind === "AXB" && ("subscriptionId" in q ? b.id === q.subscriptionId : b.x === q.relationNum)).map((b) => b.id)
      expect(got.ok ? got.value : got.code).toEqual(gone.length === 0 ? "1012007" : gone.length)
      m.remove(gone)
      return
    }
    case "bindAx": {
      const a = PARTIES[c.a]!
      const x = c.x === undefined ? undefined : XS[c.x]!
      const got = s.bindAx("ax", {
        origNum: a, privateNum: x, areaCode: undefined, areaMatchMode: "0", calleeNumDisplay: "0", maxDuration: 0, lastMinVoice: undefined,
        recordFlag: false, recordHintTone: undefined, privateSms: undefined, preVoice: undefined, userData: undefined
      }, m.now)
      const taken = (n: string) => m.live().some((b) => b.kind === "AX" && b.x === n)
      const held = m.live().filter((b) => b.kind === "AX" && b.a === a).length
      const on = x ?? expectedX(m, "ax", undefined, true, (n) => !taken(n))
      const expected = held >= 5 ? "1011003"
        : x !== undefined ? explicitX(m, "ax", x, "1011004") ?? (taken(x) ? "1011005" : "0")
        : on === undefined ? "1012008" : "0"
      expect(codeOf(got)).toBe(expected)
      if (got.ok) {
        expect(got.value.privateNum).toBe(on)
        m.known.push(got.value.subscriptionId)
        m.bindings.push({ id: got.value.subscriptionId, kind: "AX", a, b: "", x: on!, duration: 0, expiresAt: Infinity })
      }
      return
    }
    case "unbindAx": {
      const id = pick(m, c.i)
      const got = s.unbindAx("ax", { subscriptionId: id })
      const b = m.find(id)
      expect(codeOf(got)).toBe(b?.kind === "AX" ? "0" : "1012007")
      if (got.ok) m.remove([id])
      return
    }
    case "setStatus": {
      const x = POOL[c.x]!.number
      expect(codeOf(s.setXStatus(x, c.status, c.status === "5" ? undefined : "3"))).toBe("0")
      m.status.set(x, c.status)
      return
    }
    case "advance":
      m.now += c.seconds * 1000
      return
  }
}

describe("Huawei binding state against a naive model", () => {
  it("agrees on every reply and on the live bindings after every step", () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 5, maxLength: 60, size: "max" }), (commands) => {
        const m = new Model()
        let n = 0
        const s = new BindingState(POOL, () => `sub-${++n}`)
        for (const c of commands) {
          step(m, s, c)
          expect(s.list(m.now, 1000).map((b) => b.subscriptionId), JSON.stringify(c)).toEqual(m.live().map((b) => b.id))
        }
      }),
      { numRuns: 200, seed: 42 }
    )
  })
})
