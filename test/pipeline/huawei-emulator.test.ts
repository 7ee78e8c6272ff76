/**
 * The whole Huawei pipeline over real HTTP on loopback: service (engine, evidence store, push route)
 * → Huawei adapter (signed, E.164) → Huawei emulator, and the emulator's pushes (numStatus, call
 * events, fee CDRs) back into the service's push route. One test per row of
 * shared/providers/huawei.md §6, AXB and AX, asserting the decision, the evidence its reason names,
 * `provider: "huawei"`, and that no real number leaves in any decision but an allowed fallback-real.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { Decision } from "../../src/index.ts"
import { DEMO_AXB_APP_KEY, DEMO_X_POOL } from "../../src/emulator/huawei/index.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { A, B, e164, national, serviceInstance, useHuaweiPipeline } from "./huaweiSupport.ts"
import type { SettingsInput } from "../../src/policy/settings.ts"

const p = useHuaweiPipeline()

/** A service against the emulator; the emulator's pushes go to it. */
const service = async (overrides: SettingsInput = {}) => {
  const inst = await serviceInstance({
    huaweiEndpoint: p.emu.url, huaweiCecEndpoint: p.emu.url, huaweiAreaCode: "0755", deadlineMs: 3000, attemptTimeoutMs: 1000,
    ...p.audit.settings, ...overrides
  })
  p.instances.push(inst)
  p.relay.target = `${inst.url}/v1/providers/huawei/events`
  return inst
}

/** No real number in the decision, except the one an allowed fallback-real dials. */
const expectPrivate = (d: Decision) => {
  const { dial, ...rest } = d
  expect(JSON.stringify(rest)).not.toMatch(/13800138000|13900139000/)
  if (d.decision !== "fallback-real") expect([A, B]).not.toContain(dial)
}

const axbBinding = (extra: Record<string, unknown> = {}) => {
  const b = p.emu.createBinding({ mode: "AXB", callerNum: e164(A), calleeNum: e164(B), areaCode: "0755", duration: 3600, ...extra })
  const x = national(b["relationNum"] as string)
  return { b, x, req: { provider: "huawei" as const, poolKey: "huawei", subsId: b.subscriptionId, phoneNoX: x, callerNo: A } }
}
const axBinding = () => {
  const b = p.emu.createBinding({ mode: "AX", origNum: e164(A), areaCode: "0755" })
  const x = national(b["privateNum"] as string)
  return { b, x, req: { provider: "huawei" as const, poolKey: "huawei", subsId: b.subscriptionId, phoneNoX: x, callerNo: B } }
}
const parties = { phoneNoA: A, phoneNoB: B, mode: "AXB" as const }

const gone = (subsId: string) => expect(() => p.emu.binding(subsId)).toThrow(/1012007|no binding/)

describe("§6 row 6: a live binding, X normal", () => {
  it("AXB: use-x dialling X, from the binding query", async () => {
    const s = await service()
    const { x, b, req } = axbBinding()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "use-x", dial: x, subsId: b.subscriptionId, provider: "huawei", source: "provider" })
    expect(d.reason).toContain("binding query: in effect")
    expectPrivate(d)
  })

  it("AX: use-x; the AXB API is asked first, then AX", async () => {
    const s = await service()
    const { x, req } = axBinding()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "use-x", dial: x, provider: "huawei", source: "provider" })
    expect(p.emu.stats().actions).toMatchObject({ axbQuery: { requests: 1 }, axQuery: { requests: 1 } })
    expectPrivate(d)
  })
})

describe("§6 row 1: account in arrears or frozen", () => {
  it("the query refused with 1010007 → refuse by default, fallback-real to B when allowed", async () => {
    const { req } = axbBinding()
    p.emu.setAccountState("arrears")
    const refusing = await service()
    const d = await refusing.decide({ ...req, binding: parties })
    expect(d).toMatchObject({ decision: "refuse", dial: null, provider: "huawei", status: 3 })
    expect(d.reason).toContain("account blocked: 1010007")
    expectPrivate(d)
    const falling = await service({ allowRealFallback: true })
    const f = await falling.decide({ ...req, binding: parties })
    expect(f).toMatchObject({ decision: "fallback-real", dial: B, provider: "huawei" })
    expectPrivate(f)
  })

  it("AX: a call torn down with stateCode 7108 (account frozen) refuses, though the account is active again", async () => {
    const { b, req } = axBinding()
    p.emu.setAccountState("frozen")
    const s = await service()
    // a call through X while frozen: the platform tears it down with 7108, CDR pushed
    p.emu.endCall({ subscriptionId: b.subscriptionId, callerNum: e164(B) })
    await p.emu.settlePushes()
    p.emu.setAccountState("active")
    await p.emu.settlePushes()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "refuse", dial: null, provider: "huawei" })
    expect(d.reason).toContain("stateCode:7108")
    expectPrivate(d)
  })
})

describe("§6 row 2: binding gone", () => {
  it("AXB expired on the emulator clock: the query says 1012007 → rebind with the same parties and mode, visible in the emulator", async () => {
    const s = await service()
    // on the city's second X, so a pick by area (the first free X) would land elsewhere
    const { b, x, req } = axbBinding({ duration: 60, relationNum: "+8617000000001" })
    expect(x).toBe("17000000001")
    p.emu.advanceClock(61)
    const d = await s.decide({ ...req, binding: parties })
    // made again on its own X, healthy: the parties keep the number they know
    expect(d).toMatchObject({ decision: "rebind", dial: x, provider: "huawei", previousSubsId: b.subscriptionId, status: 4 })
    expect(d.reason).toContain("binding query: 1012007")
    const fresh = p.emu.binding(d.subsId!)
    expect(fresh).toMatchObject({ mode: "AXB", callerNum: e164(A), calleeNum: e164(B), relationNum: e164(d.dial!) })
    expect(d.dial).toMatch(/^170000000/)
    expectPrivate(d)
    // the new binding is cached: the next decision on it dials it without a query
    p.emu.resetStats()
    expect(await s.decide({ ...req, subsId: d.subsId!, phoneNoX: d.dial! })).toMatchObject({ decision: "use-x", dial: d.dial })
    expect(p.emu.stats().actions["axbQuery"]).toBeUndefined()
  })

  it("AX unbound on the platform: the query says gone on both APIs → a new AX binding for A", async () => {
    const s = await service()
    const { b, req } = axBinding()
    p.emu.unbind(b.subscriptionId)
    const d = await s.decide({ ...req, binding: { phoneNoA: A, mode: "AX" } })
    expect(d).toMatchObject({ decision: "rebind", provider: "huawei", previousSubsId: b.subscriptionId })
    expect(d.reason).toContain("binding query:")
    expect(p.emu.binding(d.subsId!)).toMatchObject({ mode: "AX", origNum: e164(A), privateNum: e164(d.dial!) })
    expectPrivate(d)
  })

  it("the binding's last call reported with stateCode 8014 → rebind", async () => {
    const s = await service()
    const { b, x, req } = axbBinding()
    await s.report({ provider: "huawei", subsId: b.subscriptionId, phoneNoX: x, stateCode: 8014 })
    const d = await s.decide({ ...req, binding: parties })
    expect(d).toMatchObject({ decision: "rebind", provider: "huawei", previousSubsId: b.subscriptionId })
    expect(d.reason).toContain("stateCode 8014")
    expect(p.emu.binding(d.subsId!)).toMatchObject({ callerNum: e164(A), calleeNum: e164(B) })
    // the platform still holds A and B on the old X (1012010 there), so the new binding is by area, on another X
    expect(d.dial).not.toBe(x)
    expectPrivate(d)
  })
})

describe("§6 row 3: X broken", () => {
  it("AXB: status 10 pushed → rebind onto another X, the old binding unbound", async () => {
    const s = await service()
    const { b, x, req } = axbBinding()
    p.emu.setXStatus(e164(x), "10", "3")
    await p.emu.settlePushes()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "rebind", provider: "huawei", previousSubsId: b.subscriptionId })
    expect(d.reason).toMatch(/X status push 10 \(cause 3\) at \d{4}-/)
    expect(d.dial).not.toBe(x)
    expect(p.emu.binding(d.subsId!)).toMatchObject({ callerNum: e164(A), calleeNum: e164(B), relationNum: e164(d.dial!) })
    gone(b.subscriptionId)
    expectPrivate(d)
  })

  it("AX: status 9 (cause 2) pushed → a new AX binding on another X, the old one unbound", async () => {
    const s = await service()
    const { b, x, req } = axBinding()
    p.emu.setXStatus(e164(x), "9", "2")
    await p.emu.settlePushes()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "rebind", provider: "huawei" })
    expect(d.reason).toContain("X status push 9 (cause 2)")
    expect(d.dial).not.toBe(x)
    expect(p.emu.binding(d.subsId!)).toMatchObject({ mode: "AX", origNum: e164(A) })
    gone(b.subscriptionId)
    expectPrivate(d)
  })

  it("a call through a blacklisted X (no push) ends in 8055: the next decision moves off the X", async () => {
    const s = await service()
    const { b, x, req } = axbBinding()
    p.emu.setXBlacklisted(e164(x), true)
    expect(p.emu.endCall({ subscriptionId: b.subscriptionId, callerNum: e164(A) })).toMatchObject({ stateCode: 8055 })
    await p.emu.settlePushes()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "rebind", provider: "huawei", previousSubsId: b.subscriptionId })
    expect(d.reason).toContain("stateCode 8055")
    expect(d.dial).not.toBe(x)
    gone(b.subscriptionId)
    expectPrivate(d)
  })

  it("status 9 cause 5 → a short second binding on another X (use-temporary-x); the original stays", async () => {
    const s = await service({ temporaryBindingS: 300 })
    const { b, x, req } = axbBinding()
    p.emu.setXStatus(e164(x), "9", "5")
    await p.emu.settlePushes()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "use-temporary-x", provider: "huawei" })
    expect(d.reason).toContain("X status push 9 (cause 5)")
    expect(d.dial).not.toBe(x)
    const temp = p.emu.binding(d.subsId!)
    expect(temp).toMatchObject({ callerNum: e164(A), calleeNum: e164(B), relationNum: e164(d.dial!) })
    expect(Number(temp["duration"])).toBeLessThanOrEqual(300)
    expect(p.emu.binding(b.subscriptionId)).toMatchObject({ relationNum: e164(x) })
    expectPrivate(d)
  })

  it("status 10 and no free X (the emulator's 1012008) → refuse, or fallback-real to B when allowed", async () => {
    const s = await service()
    const { x, req } = axbBinding()
    for (const n of DEMO_X_POOL.filter((entry) => entry.appKey === DEMO_AXB_APP_KEY)) if (n.number !== e164(x)) p.emu.setXBlacklisted(n.number, true)
    p.emu.setXStatus(e164(x), "10", "3")
    await p.emu.settlePushes()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "refuse", dial: null, provider: "huawei", providerCode: "1012008" })
    expectPrivate(d)
    // a second instance (its own memory store) learns the status from a push of its own
    const falling = await service({ allowRealFallback: true })
    p.emu.setXStatus(e164(x), "5")
    p.emu.setXStatus(e164(x), "10", "3")
    await p.emu.settlePushes()
    const f = await falling.decide(req)
    expect(f).toMatchObject({ decision: "fallback-real", dial: B, provider: "huawei", providerCode: "1012008" })
    expectPrivate(f)
  })
})

describe("§6 row 4: status 11 (bindings frozen)", () => {
  it("use-x on the existing binding; the frozen X is never chosen for a rebind", async () => {
    const s = await service()
    const { x, req } = axbBinding()
    p.emu.setXStatus(e164(x), "11")
    await p.emu.settlePushes()
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "use-x", dial: x, provider: "huawei" })
    expect(d.reason).toContain("X status push 11")
    expectPrivate(d)
    // another pair whose binding expired: its new X is not the frozen one
    const other = p.emu.createBinding({ mode: "AXB", callerNum: e164("13700137000"), calleeNum: e164("13600136000"), areaCode: "0755", duration: 60 })
    p.emu.advanceClock(61)
    const r = await s.decide({
      provider: "huawei", poolKey: "huawei", subsId: other.subscriptionId, phoneNoX: national(other["relationNum"] as string), callerNo: "13700137000",
      binding: { phoneNoA: "13700137000", phoneNoB: "13600136000", mode: "AXB" }
    })
    expect(r).toMatchObject({ decision: "rebind", provider: "huawei" })
    expect(r.dial).not.toBe(x)
  })
})

describe("§6 row 5: stateCode 8016 (direction)", () => {
  it("a call refused for its direction → PUT callDirection 0, then use-x; B's next call goes through", async () => {
    const s = await service()
    const { b, x, req } = axbBinding({ callDirection: 1 })
    // B dials X on an A→B-only binding: torn down with 8016, pushed
    expect(p.emu.endCall({ subscriptionId: b.subscriptionId, callerNum: e164(B) })).toMatchObject({ stateCode: 8016 })
    await p.emu.settlePushes()
    const d = await s.decide({ ...req, callerNo: B })
    expect(d).toMatchObject({ decision: "use-x", dial: x, provider: "huawei" })
    expect(d.reason).toContain("callDirection set to 0")
    expect(p.emu.binding(b.subscriptionId)).toMatchObject({ callDirection: 0 })
    expect(p.emu.endCall({ subscriptionId: b.subscriptionId, callerNum: e164(B) })).toMatchObject({ stateCode: 0 })
    expectPrivate(d)
  })
})

describe("§6 rows 7 and 8: callee-class and transient failures keep the X", () => {
  it.each([
    ["callee busy (8102)", 8102, "callee"],
    ["callee unreachable (8100, forwarded leg)", 8100, "callee"],
    ["transient (522)", 522, "transient"]
  ])("%s three times → use-x, X not marked", async (_, stateCode) => {
    const s = await service({ xFailureThreshold: 2 })
    const { b, x, req } = axbBinding()
    for (let i = 0; i < 3; i++) p.emu.endCall({ subscriptionId: b.subscriptionId, callerNum: e164(A), stateCode })
    await p.emu.settlePushes()
    const health = await Effect.runPromise(s.store.xHealth("huawei", x))
    expect(health).toMatchObject({ unhealthy: false, numberFailures: 0 })
    expect(Object.values(health.counts).reduce((n, c) => n + c, 0)).toBe(3)
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "use-x", dial: x, provider: "huawei" })
    expectPrivate(d)
  })
})

describe("§6 row 9: provider unreachable, flow control, deadline", () => {
  const fast = { deadlineMs: 600, attemptTimeoutMs: 200, maxAttempts: 3, retryBaseMs: 5 }

  it.each([
    ["1010010 flow control", { errors: [{ code: "1010010", rate: 1 }] }, "1010010"],
    ["1010001 internal error", { errors: [{ code: "1010001", rate: 1 }] }, "1010001"],
    ["1023002 platform timeout", { errors: [{ code: "1023002", rate: 1 }] }, "1023002"],
    ["an HTML 502", { malformed: { rate: 1, kind: "html-502" as const } }, "Reply.HttpStatus502"],
    ["a connection reset", { reset: { rate: 1 } }, "Transport.ConnectionError"]
  ])("%s → the degraded decision (use-x), with the code", async (_, fault, code) => {
    const s = await service(fast)
    const { x, req } = axbBinding()
    p.emu.setFault("axbQuery", fault)
    const d = await s.decide(req)
    expect(d).toMatchObject({ decision: "use-x", dial: x, source: "degraded", provider: "huawei", providerCode: code })
    expectPrivate(d)
  })

  it("a hanging platform costs one deadline and is degraded (refuse when so configured)", async () => {
    const s = await service({ ...fast, degradedDecision: "refuse" })
    const { req } = axbBinding()
    p.emu.setFault("axbQuery", { hang: { rate: 1 } })
    const started = performance.now()
    const d = await s.decide(req)
    expect(performance.now() - started).toBeLessThan(600 + 200)
    expect(d).toMatchObject({ decision: "refuse", dial: null, source: "degraded", provider: "huawei", providerCode: "Transport.Timeout" })
    expectPrivate(d)
  })

  it("nothing listening at the endpoint → degraded within the deadline", async () => {
    const s = await service({ ...fast, huaweiEndpoint: "http://127.0.0.1:9" })
    const started = performance.now()
    const d = await s.decide({ provider: "huawei", poolKey: "huawei", subsId: "2a7c0c1e-6d2c-4bd6-a4b8-fe2a3c8d8f01", phoneNoX: "17000000001", callerNo: A })
    expect(performance.now() - started).toBeLessThan(600 + 200)
    expect(d).toMatchObject({ decision: "use-x", dial: "17000000001", source: "degraded", provider: "huawei" })
  })
})

describe("1012102 on modify marks the X broken for later decisions", () => {
  it("the direction fix refused with 1012102: this call still dials X, the next one moves off it", async () => {
    const s = await service()
    const { b, x, req } = axbBinding({ callDirection: 1 })
    p.emu.endCall({ subscriptionId: b.subscriptionId, callerNum: e164(B) })
    await p.emu.settlePushes()
    p.emu.setFault("axbModify", { errors: [{ code: "1012102", rate: 1 }] })
    const first = await s.decide({ ...req, callerNo: B })
    expect(first).toMatchObject({ decision: "use-x", dial: x, provider: "huawei" })
    expect(first.reason).toContain("setting callDirection 0 failed")
    const next = await s.decide({ ...req, callerNo: B })
    expect(next).toMatchObject({ decision: "rebind", provider: "huawei", previousSubsId: b.subscriptionId })
    expect(next.reason).toContain("1012102")
    expect(next.dial).not.toBe(x)
    gone(b.subscriptionId)
    expectPrivate(next)
  })
})

describe("PRECALL_REBIND_PROVIDERS between Aliyun and Huawei", () => {
  let aliyun: RunningAliyunEmulator
  beforeAll(async () => {
    aliyun = await startAliyunEmulator({ seed: 3, pools: [{ poolKey: "FCTINY", numbers: ["17100000000"] }, { poolKey: "FCBIG", numbers: ["17100000001", "17100000002"] }] })
  })
  afterAll(() => aliyun.close())
  beforeEach(() => aliyun.reset())

  it("Aliyun's pool empty on an expired binding → a new binding on Huawei, and the decision says so", async () => {
    const s = await service({ aliyunEndpoint: aliyun.url, rebindProviders: ["huawei"] })
    const old = aliyun.createBinding({ mode: "AXB", poolKey: "FCTINY", phoneNoA: A, phoneNoB: B, ttlSeconds: 60 })
    aliyun.advanceClock(120)
    // the only X of the pool is taken by A with someone else
    aliyun.createBinding({ mode: "AXB", poolKey: "FCTINY", phoneNoA: A, phoneNoB: "13600136000", ttlSeconds: 3600 })
    const d = await s.decide({ provider: "aliyun", poolKey: "FCTINY", subsId: old.subsId, phoneNoX: old.phoneNoX, callerNo: A, binding: parties })
    expect(d).toMatchObject({ decision: "rebind", provider: "huawei", previousSubsId: old.subsId })
    expect(d.reason).toMatch(/on huawei \(aliyun could not bind/)
    expect(p.emu.binding(d.subsId!)).toMatchObject({ mode: "AXB", callerNum: e164(A), calleeNum: e164(B), relationNum: e164(d.dial!) })
    expectPrivate(d)
  })

  it("Huawei without a free X (1012008) → a new binding on Aliyun", async () => {
    const s = await service({ aliyunEndpoint: aliyun.url, aliyunPoolKey: "FCBIG", rebindProviders: ["aliyun"] })
    const { b, req } = axbBinding({ duration: 60 })
    for (const n of DEMO_X_POOL.filter((entry) => entry.appKey === DEMO_AXB_APP_KEY)) p.emu.setXBlacklisted(n.number, true)
    p.emu.advanceClock(61)
    const d = await s.decide({ ...req, binding: parties })
    expect(d).toMatchObject({ decision: "rebind", provider: "aliyun", previousSubsId: b.subscriptionId })
    expect(d.reason).toContain("on aliyun (huawei could not bind")
    expect(d.reason).toContain("1012008")
    expect(aliyun.binding(d.subsId!)).toMatchObject({ phoneNoA: A, phoneNoB: B, phoneNoX: d.dial })
    expectPrivate(d)
  })
})
