/**
 * Two service instances against the Huawei emulator, on the machine's Redis (a fresh key prefix per
 * run, removed after): what the emulator pushes to one instance changes the other's next Huawei
 * decision; number-class failures crossing PRECALL_X_FAILURE_THRESHOLD move it off the X; a forged
 * or unsigned push is refused and teaches nothing; a CDR the emulator re-pushes is counted once.
 */
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { describe, expect, it } from "vitest"
import { numStatus, signedHeaders } from "../evidence/pushSupport.ts"
import { A, B, e164, national, removeRedisKeys, serviceInstance, useHuaweiPipeline } from "./huaweiSupport.ts"

const REDIS_URL = "redis://127.0.0.1:6379"
const prefix = `precall-test:${randomUUID()}:`
const p = useHuaweiPipeline(() => removeRedisKeys(prefix, REDIS_URL))

/** Two instances on one Redis (this test's own prefix); the emulator pushes to the first. */
const twoInstances = async () => {
  const settings = {
    huaweiEndpoint: p.emu.url, huaweiAreaCode: "0755", deadlineMs: 3000, attemptTimeoutMs: 1000, xFailureThreshold: 3,
    redisUrl: REDIS_URL, redisPrefix: `${prefix}${randomUUID()}:`, redisTimeoutMs: 500, redisKeySecret: "instances-share-this", ...p.audit.settings
  }
  const one = await serviceInstance(settings)
  const two = await serviceInstance(settings)
  p.instances.push(one, two)
  p.relay.target = `${one.url}/v1/providers/huawei/events`
  return { one, two }
}

const bindingOn = (a: string, b: string, x?: string) => {
  const made = p.emu.createBinding({ mode: "AXB", callerNum: e164(a), calleeNum: e164(b), areaCode: "0755", duration: 3600, ...(x === undefined ? {} : { relationNum: e164(x) }) })
  const phoneNoX = national(made["relationNum"] as string)
  return { subsId: made.subscriptionId, x: phoneNoX, req: { provider: "huawei" as const, poolKey: "huawei", subsId: made.subscriptionId, phoneNoX, callerNo: a } }
}

describe("two service instances on one Redis, pushed by the Huawei emulator", () => {
  it("an X status pushed to one instance changes the other's next decision", async () => {
    const { one, two } = await twoInstances()
    const { subsId, x, req } = bindingOn(A, B)
    expect(await two.decide(req)).toMatchObject({ decision: "use-x", dial: x, provider: "huawei" })
    p.emu.setXStatus(e164(x), "10", "3")
    await p.emu.settlePushes()
    expect(p.relay.forwarded).toEqual([200])
    const d = await two.decide(req)
    expect(d).toMatchObject({ decision: "rebind", provider: "huawei", previousSubsId: subsId })
    expect(d.reason).toContain("X status push 10 (cause 3)")
    expect(d.dial).not.toBe(x)
    // the instance that got the push decides the same on the new binding's old X
    expect(await Effect.runPromise(one.store.xStatus("huawei", x))).toMatchObject({ status: "10", cause: "3" })
  })

  it("number-class failures (CDRs with stateCode 8055) on other bindings of the X: the threshold moves the other instance off it", async () => {
    const { two } = await twoInstances()
    const mine = bindingOn(A, B)
    const others = [["13700137000", "13600136000"], ["13500135000", "13400134000"], ["13300133000", "13200132000"]].map(([a, b]) => bindingOn(a!, b!, mine.x))
    expect(new Set(others.map((o) => o.x))).toEqual(new Set([mine.x]))
    // the carrier blacklists X: no numStatus push, calls through it end in 8055
    p.emu.setXBlacklisted(e164(mine.x), true)
    for (const o of others.slice(0, 2)) p.emu.endCall({ subscriptionId: o.subsId, callerNum: e164(o.req.callerNo) })
    await p.emu.settlePushes()
    expect(await two.decide(mine.req)).toMatchObject({ decision: "use-x", dial: mine.x })
    p.emu.endCall({ subscriptionId: others[2]!.subsId, callerNum: e164(others[2]!.req.callerNo) })
    await p.emu.settlePushes()
    const d = await two.decide(mine.req)
    expect(d).toMatchObject({ decision: "rebind", provider: "huawei", previousSubsId: mine.subsId })
    expect(d.reason).toContain("3 number-class call failures on X")
    expect(d.dial).not.toBe(mine.x)
    expect(p.emu.binding(d.subsId!)).toMatchObject({ callerNum: e164(A), calleeNum: e164(B) })
  })

  it("an account refusal one instance got (1010007) is known to the other: it refuses without asking the platform", async () => {
    const { one, two } = await twoInstances()
    const { req } = bindingOn(A, B)
    const other = bindingOn("13700137000", "13600136000")
    p.emu.setAccountState("arrears")
    const first = await one.decide(req)
    expect(first).toMatchObject({ decision: "refuse", dial: null, provider: "huawei" })
    expect(first.reason).toContain("account blocked: 1010007")
    p.emu.resetStats()
    // another binding (no decision to share): the account is what the other instance knows
    const second = await two.decide(other.req)
    expect(second).toMatchObject({ decision: "refuse", dial: null, provider: "huawei" })
    expect(second.reason).toContain("account blocked: 1010007")
    expect(p.emu.stats().actions["axbQuery"]).toBeUndefined()
  })

  it("a forged or unsigned push is refused with 401 and changes no decision", async () => {
    const { one, two } = await twoInstances()
    const { x, req } = bindingOn(A, B)
    const events = `${one.url}/v1/providers/huawei/events`
    const push = (headers: Record<string, string>, status = "10") =>
      fetch(events, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(numStatus([{ number: e164(x), status, cause: "3" }])) })
    expect((await push(signedHeaders({ secret: "guessed-secret" }))).status).toBe(401)
    expect((await push({})).status).toBe(401)
    expect(await Effect.runPromise(two.store.xStatus("huawei", x))).toBeUndefined()
    expect(await two.decide(req)).toMatchObject({ decision: "use-x", dial: x, provider: "huawei" })
    // a genuine push captured and sent again (same nonce) with another body is a replay
    const captured = signedHeaders({ nonce: "CAPTURED0001" })
    expect((await push(captured, "5")).status).toBe(200)
    expect((await push(captured, "10")).status).toBe(401)
    expect(await Effect.runPromise(two.store.xStatus("huawei", x))).toMatchObject({ status: "5" })
    expect(await two.decide(req)).toMatchObject({ decision: "use-x", dial: x, provider: "huawei" })
  })

  it("a CDR the emulator re-pushes (its first try answered 500) is counted once", async () => {
    const { two } = await twoInstances()
    const { subsId, x } = bindingOn(A, B)
    p.relay.failNext = 1
    p.emu.endCall({ subscriptionId: subsId, callerNum: e164(A), stateCode: 8102, events: [] })
    await p.emu.settlePushes()
    expect(p.relay.forwarded).toEqual([200])
    expect(p.emu.stats().pushes).toMatchObject({ failed: 1, pending: 1 })
    // the re-push falls due one minute later on the emulator clock
    p.emu.advanceClock(60)
    await p.emu.settlePushes()
    expect(p.relay.forwarded).toEqual([200, 200])
    expect(p.emu.stats().pushes).toMatchObject({ delivered: 1, pending: 0 })
    const health = await Effect.runPromise(two.store.xHealth("huawei", x))
    expect(health.counts.callee).toBe(1)
    expect(await Effect.runPromise(two.store.lastCall("huawei", subsId))).toMatchObject({ outcomeClass: "callee", code: "stateCode:8102" })
  })
})
