/**
 * The Huawei emulator's control API (same guard as Aliyun's: loopback Host, JSON bodies, optional
 * token), its routes, fault injection per action, `*` and `<action>@<subscriptionId>`, and stats.
 */
import * as fc from "fast-check"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { CEC_TOKEN_PATH, EmulatorControlError, startHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import type { RunningHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import { A, axb, AXB_PATH, B, C, control, D, signed } from "./huaweiSupport.ts"
import { raw } from "./support.ts"

let emu: RunningHuaweiEmulator
let locked: RunningHuaweiEmulator
beforeAll(async () => {
  emu = await startHuaweiEmulator()
  locked = await startHuaweiEmulator({ controlToken: "control-token-for-tests" })
})
afterAll(async () => {
  await emu.close()
  await locked.close()
})
beforeEach(() => emu.reset())

describe("control API guard", () => {
  it("answers loopback Host headers only (no DNS rebinding)", async () => {
    const port = new URL(emu.url).port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) expect(await raw(emu.url, "GET", "/_emulator/state", { host }), host).toBe(200)
    for (const host of ["evil.example", `127.0.0.1.evil.example:${port}`, "10.0.0.1"]) expect(await raw(emu.url, "GET", "/_emulator/state", { host }), host).toBe(403)
  })

  it("takes JSON bodies only", async () => {
    const body = JSON.stringify({ mode: "AXB", callerNum: A, calleeNum: B })
    expect(await raw(emu.url, "POST", "/_emulator/bindings", { "content-type": "text/plain" }, body)).toBe(415)
    expect(await raw(emu.url, "POST", "/_emulator/bindings", { "content-type": "application/x-www-form-urlencoded" }, body)).toBe(415)
    expect(await raw(emu.url, "POST", "/_emulator/bindings", { "content-type": "application/json" }, body)).toBe(201)
  })

  it("with a control token, needs it", async () => {
    expect(await raw(locked.url, "GET", "/_emulator/state", {})).toBe(401)
    expect(await raw(locked.url, "GET", "/_emulator/state", { authorization: "Bearer wrong-token" })).toBe(401)
    expect(await raw(locked.url, "GET", "/_emulator/state", { authorization: "Bearer control-token-for-tests" })).toBe(200)
  })
})

describe("control routes", () => {
  it("bindings: create with the wire's rules, read, delete; refusals carry the Huawei code", async () => {
    const created = await control(emu, "POST", "/bindings", { mode: "AXB", callerNum: A, calleeNum: B, areaCode: "010", duration: 600 })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ mode: "AXB", relationNum: "+8617000000020", appKey: "demoAppKey0001", expiresInSeconds: 600 })
    const id = created.body.subscriptionId as string
    expect((await control(emu, "GET", `/bindings/${id}`)).body).toMatchObject({ subscriptionId: id, callerNum: A })
    expect((await axb(emu, "GET", { subscriptionId: id })).body["resultcode"]).toBe("0")
    const clash = await control(emu, "POST", "/bindings", { mode: "AXB", callerNum: A, calleeNum: C, relationNum: "+8617000000020" })
    expect([clash.status, clash.body.error]).toEqual([409, "1012010"])
    expect((await control(emu, "POST", "/bindings", { mode: "AXB", callerNum: "138", calleeNum: B })).body.error).toBe("1010002")
    expect((await control(emu, "POST", "/bindings", { mode: "AXE", callerNum: A })).status).toBe(400)
    expect((await control(emu, "DELETE", `/bindings/${id}`)).status).toBe(200)
    expect((await control(emu, "GET", `/bindings/${id}`)).status).toBe(404)
    expect(() => emu.binding(id)).toThrow(EmulatorControlError)
  })

  it("numbers, account, calls, pushes, clock, reset", async () => {
    const status = await control(emu, "PUT", `/numbers/${encodeURIComponent("+8617000000000")}/status`, { status: "9", cause: "2" })
    expect(status.body).toEqual({ number: "+8617000000000", status: "9", cause: "2", pushId: 1 })
    expect((await control(emu, "PUT", "/numbers/%2B8617000000000/status", { status: "7" })).status).toBe(400)
    expect((await control(emu, "PUT", "/numbers/%2B8617099999999/status", { status: "9" })).status).toBe(404)
    expect((await control(emu, "PUT", "/numbers/%2B8617000000001/blacklist", { blacklisted: true })).body).toMatchObject({ blacklisted: true })
    expect((await control(emu, "PUT", "/account", { state: "arrears" })).body).toEqual({ account: "arrears", pushIds: [2, 3] }) // every X paused, one push per app
    expect((await control(emu, "PUT", "/account", { state: "closed" })).status).toBe(400)
    expect((await axb(emu, "GET", { subscriptionId: "x" })).body["resultcode"]).toBe("1010007")
    await control(emu, "PUT", "/account", { state: "active" })
    const b = emu.createBinding({ mode: "AXB", callerNum: C, calleeNum: D })
    const call = await control(emu, "POST", "/calls", { subscriptionId: b.subscriptionId, stateCode: 8101 })
    expect([call.status, call.body.stateCode, call.body.answered, call.body.pushIds.length]).toEqual([201, 8101, false, 5])
    expect((await control(emu, "POST", "/calls", { callerNum: C })).status).toBe(400)
    const pushes = await control(emu, "POST", "/pushes/settle")
    expect(pushes.body.pushes.map((p: { eventType: string }) => p.eventType)).toEqual([...Array(5).fill("numStatus"), "callin", "callout", "alerting", "disconnect", "fee"])
    expect(pushes.body.pushes.every((p: { state: string }) => p.state === "no-callback")).toBe(true)
    expect((await control(emu, "POST", "/clock/advance", { seconds: 60 })).body.offsetSeconds).toBe(60)
    expect((await control(emu, "POST", "/clock/advance", { seconds: -1 })).status).toBe(400)
    const state = (await control(emu, "POST", "/reset")).body
    expect([state.bindings.count, state.account, state.clock.offsetSeconds]).toEqual([0, "active", 0])
    expect(state.pool.every((x: { status: string; blacklisted: boolean }) => x.status === "5" && !x.blacklisted)).toBe(true)
    expect((await control(emu, "GET", "/pushes")).body.pushes).toEqual([])
  })

  it("lists its routes; an unknown route is 404 and bad JSON 400", async () => {
    expect((await control(emu, "GET", "")).body.routes).toContain("PUT /_emulator/numbers/:x/status")
    expect((await control(emu, "GET", "/nothing")).status).toBe(404)
    const res = await fetch(`${emu.url}/_emulator/clock/advance`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" })
    expect(res.status).toBe(400)
  })
})

describe("faults", () => {
  it("an injected code answers in Huawei's shape and status, without running the action", async () => {
    emu.setFault("axbBind", { errors: [{ code: "1010001", rate: 1 }] })
    const res = await axb(emu, "POST", { callerNum: A, calleeNum: B })
    expect([res.status, res.body]).toEqual([500, { resultcode: "1010001", resultdesc: "Internal error." }])
    expect(emu.state().bindings.count).toBe(0)
    emu.setFault("axbBind", { errors: [{ code: "1010010", rate: 1 }] })
    expect((await axb(emu, "POST", { callerNum: A, calleeNum: B })).body["resultcode"]).toBe("1010010")
    emu.setFault("axbBind", { errors: [{ code: "1012102", rate: 1, httpStatus: 503, message: "down" }] })
    expect(await axb(emu, "POST", { callerNum: A, calleeNum: B })).toMatchObject({ status: 503, body: { resultcode: "1012102", resultdesc: "down" } })
  })

  it("faults apply only past authentication: a bad signature still gets its 401", async () => {
    emu.setFault("*", { errors: [{ code: "1010001", rate: 1 }] })
    expect((await axb(emu, "GET", { subscriptionId: "x" }, { secret: "wrong" })).status).toBe(401)
    expect((await axb(emu, "GET", { subscriptionId: "x" })).body["resultcode"]).toBe("1010001")
  })

  it("`*` covers every action; `<action>@<subscriptionId>` one binding only", async () => {
    const one = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B })
    const other = emu.createBinding({ mode: "AXB", callerNum: C, calleeNum: D })
    emu.setFault(`axbQuery@${one.subscriptionId}`, { errors: [{ code: "1023002", rate: 1 }] })
    expect((await axb(emu, "GET", { subscriptionId: one.subscriptionId })).body["resultcode"]).toBe("1023002")
    expect((await axb(emu, "GET", { subscriptionId: other.subscriptionId })).body["resultcode"]).toBe("0")
    emu.clearFaults()
    emu.setFault("*", { errors: [{ code: "500", rate: 1 }] })
    expect((await fetch(`${emu.url}${CEC_TOKEN_PATH}`, { method: "POST", body: JSON.stringify({ app_key: "demoCecAk0001", app_secret: "demoCecSk0001" }) })).status).toBe(500)
  })

  it("reset drops the connection; malformed replies are cut, empty or an HTML 502", async () => {
    emu.setFault("axbQuery", { reset: { rate: 1 } })
    await expect(axb(emu, "GET", { subscriptionId: "x" })).rejects.toThrow()
    const body = async () => {
      const res = await fetch(`${emu.url}${AXB_PATH}?subscriptionId=x`, { headers: signed(emu) })
      return [res.status, res.headers.get("content-type"), await res.text()] as const
    }
    emu.setFault("axbQuery", { malformed: { rate: 1, kind: "truncated-json" } })
    const [, , cut] = await body()
    expect(() => JSON.parse(cut)).toThrow()
    expect(cut.startsWith('{"resultcode":"1012007"')).toBe(true)
    emu.setFault("axbQuery", { malformed: { rate: 1, kind: "empty" } })
    expect((await body())[2]).toBe("")
    emu.setFault("axbQuery", { malformed: { rate: 1, kind: "html-502" } })
    expect((await body()).slice(0, 2)).toEqual([502, "text/html"])
  })

  it("latency delays the reply; a hang never answers; a throttle answers 1010010", async () => {
    emu.setFault("axbQuery", { latency: { kind: "fixed", ms: 150 } })
    const t0 = performance.now()
    await axb(emu, "GET", { subscriptionId: "x" })
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140)
    emu.setFault("axbQuery", { hang: { rate: 1 } })
    await expect(fetch(`${emu.url}${AXB_PATH}?subscriptionId=x`, { headers: signed(emu), signal: AbortSignal.timeout(200) })).rejects.toThrow()
    emu.setFault("axbQuery", { throttle: { qps: 1 } })
    const codes = [(await axb(emu, "GET", { subscriptionId: "x" })).body["resultcode"], (await axb(emu, "GET", { subscriptionId: "x" })).body["resultcode"]]
    expect(codes).toEqual(["1012007", "1010010"])
  })

  it("an unknown action or a bad spec is refused", async () => {
    expect((await control(emu, "PUT", "/faults/BindAxb", { errors: [] })).status).toBe(404)
    expect((await control(emu, "PUT", "/faults/axbBind", { errors: [{ code: "1010001", rate: 2 }] })).status).toBe(400)
    expect((await control(emu, "PUT", "/faults/axbBind", { errors: [{ code: "1010001", rate: 0.5 }] })).status).toBe(200)
    expect((await control(emu, "GET", "/faults")).body).toEqual({ axbBind: { errors: [{ code: "1010001", rate: 0.5 }] } })
    expect(() => emu.setFault("nothing", {})).toThrow(EmulatorControlError)
    await expect(startHuaweiEmulator({ faults: { axbBind: { hang: { rate: 3 } } } })).rejects.toThrow(/axbBind/)
  })
})

describe("stats and robustness", () => {
  it("counts requests by action and result code", async () => {
    await axb(emu, "GET", { subscriptionId: "x" })
    await axb(emu, "GET", { subscriptionId: "x" }, { secret: "wrong" })
    await axb(emu, "POST", { callerNum: A, calleeNum: B })
    const stats = emu.stats()
    expect(stats.totalRequests).toBe(3)
    expect(stats.actions).toMatchObject({ axbQuery: { requests: 2, codes: { "1012007": 1, "(401)": 1 } }, axbBind: { requests: 1, codes: { "0": 1 } } })
  })

  it("bad input gets an answer, never a crash: oversized bodies, broken HTTP, junk JSON", async () => {
    const big = await fetch(`${emu.url}${AXB_PATH}`, { method: "POST", headers: signed(emu), body: "x".repeat(70_000) })
    expect([big.status, ((await big.json()) as Record<string, unknown>)["resultcode"]]).toEqual([413, "1010002"])
    expect((await axb(emu, "POST", { callerNum: ["+8613800000001"], calleeNum: { x: 1 }, preVoice: "tone" })).body["resultcode"]).toBe("1010002")
    const res = await fetch(`${emu.url}${AXB_PATH}`, { method: "POST", headers: signed(emu), body: "[1,2" })
    expect(((await res.json()) as Record<string, unknown>)["resultcode"]).toBe("1010002")
    expect((await control(emu, "GET", "/health")).body).toEqual({ ok: true })
  })

  it("any JSON body on any privacy-call API gets a JSON answer with a resultcode, never a crash", async () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }))
    const fieldNames = fc.constantFrom("callerNum", "calleeNum", "relationNum", "areaCode", "areaMatchMode", "duration", "maxDuration", "callDirection", "userData", "preVoice", "recordFlag", "lastMinVoice", "subscriptionId", "origNum", "privateNum", "pageSize", "pageIndex", "__proto__", "constructor")
    const request = fc.record({ method: fc.constantFrom("POST", "PUT", "GET", "DELETE"), path: fc.constantFrom(AXB_PATH, "/rest/provision/caas/privatenumber/v1.0"), fields: fc.dictionary(fieldNames, value, { maxKeys: 6 }) })
    await fc.assert(fc.asyncProperty(request, async ({ method, path, fields }) => {
      const hasBody = method === "POST" || method === "PUT"
      const qs = hasBody ? "" : `?${new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)])).toString()}`
      const appKey = path === AXB_PATH ? "demoAppKey0001" : "demoAxAppKey0001"
      const res = await fetch(`${emu.url}${path}${qs}`, { method, headers: signed(emu, { appKey }), ...(hasBody ? { body: JSON.stringify(fields) } : {}) })
      const body = (await res.json()) as Record<string, unknown>
      expect([200, 403]).toContain(res.status)
      expect(typeof body["resultcode"]).toBe("string")
    }), { numRuns: 150, seed: 7 })
    expect((await control(emu, "GET", "/health")).status).toBe(200)
  })
})
