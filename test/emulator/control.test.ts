/**
 * The control API under /_emulator/ and the programmatic API: bindings, call-status faults, the
 * clock (status 4 without sleeping), faults, stats, reset, and the Effect wrappers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { parseBeijing } from "../../src/emulator/aliyun/clock.ts"
import { AliyunEmulator, aliyunEmulatorScoped, DEMO_ACCESS_KEY_ID, EmulatorControlError, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import type { RunningAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { keyPairFromEnv } from "../../src/emulator/aliyun/options.ts"
import { control, expirationIn, json, v1 } from "./support.ts"

const POOL = "FC100000000001"
let emu: RunningAliyunEmulator

beforeAll(async () => {
  emu = await startAliyunEmulator({ pools: [{ poolKey: "FCSMALL", numbers: ["17100000000", "17100000001"] }] })
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const callStatus = async (subsId: string, pool = POOL) => (await json(await v1(emu, "QueryCallStatus", { PoolKey: pool, SubsId: subsId })))["SecretCallStatusDTO"]

describe("bindings and call status", () => {
  it("POST /bindings creates a binding the wire then sees", async () => {
    const created = await control(emu, "POST", "/bindings", { mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 600 })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ poolKey: POOL, phoneNoX: "17000000000" })
    expect(created.body.subsId).toMatch(/^\d{16}$/)
    expect(await callStatus(created.body.subsId)).toEqual({ Status: 1, CalledNo: "17000000000" })
    const view = await control(emu, "GET", `/bindings/${created.body.subsId}`)
    expect(view.body).toMatchObject({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", status: "in-effect" })
  })

  it("AXN extension bindings get a 3-digit extension; AXN_EXTENSION with an extension needs an X", async () => {
    const a = await control(emu, "POST", "/bindings", { mode: "AXN_EXTENSION", poolKey: "FCSMALL", phoneNoA: "13800138000", ttlSeconds: 600 })
    expect(a.body).toMatchObject({ phoneNoX: "17100000000", extension: "100" })
    expect(await callStatus(a.body.subsId, "FCSMALL")).toEqual({ Status: 1, CalledNo: "17100000000", Extension: "100" })
    const b = await control(emu, "POST", "/bindings", { mode: "AXN_EXTENSION", poolKey: "FCSMALL", phoneNoA: "13800138001", extension: "7", ttlSeconds: 600 })
    expect([b.status, b.body.error]).toEqual([400, "isv.ILLEGAL_ARGUMENT"])
  })

  it("pool exhaustion and conflicts are 409 with the isv code", async () => {
    for (const a of ["13800138000", "13800138001"]) emu.createBinding({ mode: "AXN", poolKey: "FCSMALL", phoneNoA: a, ttlSeconds: 600 })
    const full = await control(emu, "POST", "/bindings", { mode: "AXN", poolKey: "FCSMALL", phoneNoA: "13800138002", ttlSeconds: 600 })
    expect([full.status, full.body.error]).toEqual([409, "isv.NO_AVAILABLE_NUMBER"])
    expect(() => emu.createBinding({ mode: "AXB", poolKey: "FCSMALL", phoneNoA: "13800138003", phoneNoB: "13800138004", phoneNoX: "17100000000", ttlSeconds: 60 }))
      .toThrow(EmulatorControlError)
  })

  it("call-status 2 (given or pool-picked temporary X), 3, and null to clear", async () => {
    const { subsId } = emu.createBinding({ mode: "AXN", phoneNoA: "13800138000", ttlSeconds: 600 })
    expect((await control(emu, "PUT", `/bindings/${subsId}/call-status`, { status: 2, temporaryX: "17000000099" })).body)
      .toEqual({ subsId, callFault: { status: 2, temporaryX: "17000000099" } })
    expect(await callStatus(subsId)).toEqual({ Status: 2, CalledNo: "17000000099" })
    expect(emu.setCallStatus(subsId, { status: 2 })).toEqual({ status: 2, temporaryX: "17000000001" })
    expect(await callStatus(subsId)).toEqual({ Status: 2, CalledNo: "17000000001" })
    await control(emu, "PUT", `/bindings/${subsId}/call-status`, { status: 3 })
    expect(await callStatus(subsId)).toEqual({ Status: 3 })
    await control(emu, "PUT", `/bindings/${subsId}/call-status`, { status: null })
    expect(await callStatus(subsId)).toEqual({ Status: 1, CalledNo: "17000000000" })
    expect((await control(emu, "PUT", "/bindings/1000000000009999/call-status", { status: 3 })).status).toBe(404)
    expect((await control(emu, "PUT", `/bindings/${subsId}/call-status`, { status: 5 })).status).toBe(400)
  })
})

describe("clock", () => {
  it("advancing the clock expires bindings: status 4, detail Status 0, updates refused, X free again", async () => {
    const { subsId, phoneNoX } = emu.createBinding({ mode: "AXN", poolKey: "FCSMALL", phoneNoA: "13800138000", ttlSeconds: 120 })
    expect((await control(emu, "GET", "/clock")).body.offsetSeconds).toBe(0)
    const advanced = await control(emu, "POST", "/clock/advance", { seconds: 121 })
    expect(advanced.body.offsetSeconds).toBe(121)

    // The wall clock is untouched, so the client's real timestamps still pass the gateway.
    expect(await callStatus(subsId, "FCSMALL")).toEqual({ Status: 4 })
    const detail = await json(await v1(emu, "QuerySubscriptionDetail", { PoolKey: "FCSMALL", SubsId: subsId, PhoneNoX: phoneNoX }))
    expect(detail["SecretBindDetailDTO"]).toMatchObject({ SubsId: subsId, Status: 0, PhoneNoX: phoneNoX })
    const update = await json(await v1(emu, "UpdateSubscription", { PoolKey: "FCSMALL", SubsId: subsId, PhoneNoX: phoneNoX, OperateType: "updateNoB", PhoneNoB: "13900139000" }))
    expect(update).toMatchObject({ Code: "isv.FORBIDDEN_ACTION", Message: "binding expired, update the binding" })
    expect(emu.createBinding({ mode: "AXN", poolKey: "FCSMALL", phoneNoA: "13800138001", ttlSeconds: 60 }).phoneNoX).toBe(phoneNoX)
  })

  it("after an advance, a client's wall-clock Expiration still means 'this long from now'", async () => {
    const old = emu.createBinding({ mode: "AXN", phoneNoA: "13800138000", ttlSeconds: 3600 })
    emu.advanceClock(7200)
    const expiration = expirationIn(3600)
    const bound = await json(await v1(emu, "BindAxn", { PoolKey: POOL, PhoneNoA: "13800138000", Expiration: expiration }))
    const { SubsId, SecretNo } = bound["SecretBindDTO"]
    expect(await callStatus(SubsId)).toEqual({ Status: 1, CalledNo: SecretNo })
    const detail = await json(await v1(emu, "QuerySubscriptionDetail", { PoolKey: POOL, SubsId, PhoneNoX: SecretNo }))
    expect(detail["SecretBindDetailDTO"]).toMatchObject({ Status: 1, ExpireDate: expiration })
    // The old binding aged by the advance: it shows an ExpireDate an hour in the wall-clock past.
    const aged = emu.binding(old.subsId)
    expect([aged.status, aged.expiresInSeconds]).toEqual(["expired", -3600])
    expect(Math.abs(parseBeijing(aged.expireDate)! - (Date.now() - 3600_000))).toBeLessThan(2000)
  })

  it("rejects a negative or missing advance", async () => {
    expect((await control(emu, "POST", "/clock/advance", { seconds: -1 })).status).toBe(400)
    expect((await control(emu, "POST", "/clock/advance", {})).status).toBe(400)
  })
})

describe("faults over the control API", () => {
  it("PUT, GET and DELETE faults", async () => {
    const put = await control(emu, "PUT", "/faults/QueryCallStatus", { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] })
    expect(put.status).toBe(200)
    await control(emu, "PUT", "/faults/*", { latency: { kind: "uniform", minMs: 0, maxMs: 1 } })
    expect(Object.keys((await control(emu, "GET", "/faults")).body).sort()).toEqual(["*", "QueryCallStatus"])
    expect((await json(await v1(emu, "QueryCallStatus", { PoolKey: POOL, SubsId: "1" })))["Code"]).toBe("isp.SYSTEM_ERROR")
    await control(emu, "DELETE", "/faults/QueryCallStatus")
    expect(Object.keys((await control(emu, "GET", "/faults")).body)).toEqual(["*"])
    await control(emu, "DELETE", "/faults")
    expect((await control(emu, "GET", "/faults")).body).toEqual({})
  })

  it.each([
    ["an unknown action", "/faults/SendSms", { hang: { rate: 1 } }, 404],
    ["a rate above 1", "/faults/*", { hang: { rate: 2 } }, 400],
    ["an unknown field", "/faults/*", { explode: true }, 400],
    ["rates summing above 1", "/faults/*", { errors: [{ code: "a", rate: 0.6 }, { code: "b", rate: 0.6 }] }, 400],
    ["a bad latency", "/faults/*", { latency: { kind: "uniform", minMs: 5, maxMs: 1 } }, 400]
  ])("refuses %s", async (_name, path, spec, status) => {
    expect((await control(emu, "PUT", path, spec)).status).toBe(status)
  })

  it("start options carry faults too, and reset restores them", async () => {
    const own = await startAliyunEmulator({ verifySignatures: false, faults: { QueryCallStatus: { errors: [{ code: "InternalError", rate: 1 }] } } })
    try {
      const query = `${own.url}/?Action=QueryCallStatus&Version=2017-05-25&PoolKey=${POOL}&SubsId=1`
      expect((await fetch(query)).status).toBe(500)
      own.clearFaults()
      expect((await fetch(query)).status).toBe(200)
      own.reset()
      expect((await fetch(query)).status).toBe(500)
    } finally {
      await own.close()
    }
    await expect(startAliyunEmulator({ faults: { Nope: {} } })).rejects.toThrow(/unknown action/)
  })
})

describe("state, stats, reset", () => {
  it("GET /state shows key id, clock, pools, bindings and faults", async () => {
    emu.createBinding({ mode: "AXN", phoneNoA: "13800138000", ttlSeconds: 60 })
    const { body } = await control(emu, "GET", "/state")
    expect(body).toMatchObject({ accessKeyId: emu.accessKeyId, verifySignatures: true, seed: 1, bindings: { count: 1, truncated: false } })
    expect(body.pools.map((p: { poolKey: string; size: number }) => [p.poolKey, p.size])).toEqual([[POOL, 100], ["FCSMALL", 2]])
    expect(body.bindings.items[0]).toMatchObject({ mode: "AXN", phoneNoX: "17000000000", status: "in-effect" })
  })

  it("GET /stats counts requests per action and code, per second, and reports CPU time", async () => {
    await v1(emu, "QueryCallStatus", { PoolKey: POOL, SubsId: "1" })
    await v1(emu, "QueryCallStatus", { PoolKey: POOL, SubsId: "1" }, { secret: "wrong" })
    await fetch(`${emu.url}/?Action=Nope`)
    const { body } = await control(emu, "GET", "/stats")
    expect(body.totalRequests).toBe(3)
    expect(body.actions).toEqual({
      QueryCallStatus: { requests: 2, codes: { "isv.SUBS_NOT_EXIST": 1, SignatureDoesNotMatch: 1 } },
      "(unknown)": { requests: 1, codes: { MissingVersion: 1 } }
    })
    expect(body.perSecond).toHaveLength(60)
    expect(body.perSecond.reduce((n: number, s: { requests: number }) => n + s.requests, 0)).toBe(3)
    expect(body.cpu.userMicros).toBeGreaterThanOrEqual(0)
    const reset = await control(emu, "POST", "/stats/reset")
    expect([reset.body.totalRequests, reset.body.actions]).toEqual([0, {}])
  })

  it("POST /reset forgets bindings, faults and the clock offset", async () => {
    const { subsId } = emu.createBinding({ mode: "AXN", phoneNoA: "13800138000", ttlSeconds: 60 })
    emu.setFault("*", { hang: { rate: 1 } })
    emu.advanceClock(30)
    const { body } = await control(emu, "POST", "/reset")
    expect([body.bindings.count, body.faults, body.clock.offsetSeconds]).toEqual([0, {}, 0])
    expect((await json(await v1(emu, "QueryCallStatus", { PoolKey: POOL, SubsId: subsId })))["Code"]).toBe("isv.SUBS_NOT_EXIST")
  })

  it("lists its routes, and answers unknown routes and bad JSON with errors", async () => {
    const index = await control(emu, "GET", "")
    expect(index.body.routes).toContain("PUT /_emulator/bindings/:subsId/call-status")
    expect((await control(emu, "GET", "/nope")).status).toBe(404)
    const bad = await fetch(`${emu.url}/_emulator/bindings`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" })
    expect([bad.status, ((await bad.json()) as { error: string }).error]).toEqual([400, "InvalidRequest"])
  })
})

describe("defaults and Effect wrappers", () => {
  it("defaults to the demo key pair on 127.0.0.1, even with an env pair set (only the CLI reads it)", async () => {
    const saved = [process.env["ALIBABA_CLOUD_ACCESS_KEY_ID"], process.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]]
    process.env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAI-from-env"
    process.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "secret-from-env"
    expect(keyPairFromEnv(process.env)).toEqual({ accessKeyId: "LTAI-from-env", accessKeySecret: "secret-from-env" })
    expect(keyPairFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: "id", ALIBABA_CLOUD_ACCESS_KEY_SECRET: " " })).toEqual({})
    try {
      const own = await startAliyunEmulator()
      expect([own.accessKeyId, own.accessKeySecret, own.host]).toEqual([DEMO_ACCESS_KEY_ID, "precall-demo-key-secret", "127.0.0.1"])
      expect(own.url).toBe(`http://127.0.0.1:${own.port}`)
      await own.close()
    } finally {
      for (const [i, name] of (["ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"] as const).entries()) {
        if (saved[i] === undefined) delete process.env[name]
        else process.env[name] = saved[i]
      }
    }
  })

  it.effect("aliyunEmulatorScoped closes the emulator with its scope", () =>
    Effect.gen(function*() {
      const url = yield* Effect.scoped(Effect.gen(function*() {
        const scoped = yield* aliyunEmulatorScoped({ verifySignatures: false })
        const health = yield* Effect.promise(() => fetch(`${scoped.url}/_emulator/health`).then((r) => r.json()))
        expect(health).toEqual({ ok: true })
        return scoped.url
      }))
      const after = yield* Effect.promise(() => fetch(`${url}/_emulator/health`).then(() => "answered", () => "refused"))
      expect(after).toBe("refused")
    }))

  it.effect("AliyunEmulator.layer provides a running emulator", () =>
    Effect.gen(function*() {
      const running = yield* AliyunEmulator
      const { subsId } = running.createBinding({ mode: "AXN", phoneNoA: "13800138000", ttlSeconds: 60 })
      expect(running.binding(subsId).status).toBe("in-effect")
    }).pipe(Effect.provide(AliyunEmulator.layer())))
})
