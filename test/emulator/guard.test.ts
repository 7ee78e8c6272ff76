/**
 * The emulator is safe to run on a laptop: V3 signatures must cover the headers Aliyun requires, and
 * the control API answers only loopback Host headers, JSON bodies and, when set, its token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAliyunEmulator, type RunningAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { REQUIRED_V3_SIGNED_HEADERS } from "../../src/emulator/aliyun/gateway.ts"
import { json, raw, v3 } from "./support.ts"


let emu: RunningAliyunEmulator
let locked: RunningAliyunEmulator
beforeAll(async () => {
  emu = await startAliyunEmulator()
  locked = await startAliyunEmulator({ controlToken: "control-token-for-tests" })
})
afterAll(async () => {
  await emu.close()
  await locked.close()
})

describe("V3 signed headers", () => {
  it.each(REQUIRED_V3_SIGNED_HEADERS.filter((h) => h !== "host"))("a signature that leaves out %s is IncompleteSignature", async (header) => {
    const res = await v3(emu, "QueryCallStatus", { query: { PoolKey: "FC100000000001", SubsId: "1" }, unsigned: [header] })
    expect([res.status, (await json(res))["Code"]]).toEqual([400, "IncompleteSignature"])
  })

  it("a signature that leaves out host is IncompleteSignature", async () => {
    const res = await v3(emu, "QueryCallStatus", { query: { PoolKey: "FC100000000001", SubsId: "1" }, unsigned: ["host"] })
    expect((await json(res))["Code"]).toBe("IncompleteSignature")
  })

  it("the same request signing every required header is served", async () => {
    const res = await v3(emu, "QueryCallStatus", { query: { PoolKey: "FC100000000001", SubsId: "1" } })
    expect((await json(res))["Code"]).not.toBe("IncompleteSignature")
  })
})

describe("control API", () => {
  it("answers loopback Host headers only (no DNS rebinding)", async () => {
    const port = new URL(emu.url).port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "127.8.9.10"]) expect(await raw(emu.url, "GET", "/_emulator/state", { host }), host).toBe(200)
    for (const host of ["evil.example", `127.0.0.1.evil.example:${port}`, "192.168.1.10"]) expect(await raw(emu.url, "GET", "/_emulator/state", { host }), host).toBe(403)
  })

  it("takes JSON bodies only (no cross-site form posts)", async () => {
    const body = JSON.stringify({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 60 })
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
