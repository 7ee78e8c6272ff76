/** CEC on the Huawei emulator: AK/SK tokens expiring on the emulator clock, and scripted call states. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { CEC_QUERY_CALL_STATE_PATH, CEC_TOKEN_PATH, startHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import type { RunningHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import { control } from "./huaweiSupport.ts"

let emu: RunningHuaweiEmulator
beforeAll(async () => {
  emu = await startHuaweiEmulator()
})
afterAll(() => emu.close())
beforeEach(() => emu.reset())

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${emu.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

const token = async (expire?: string) =>
  post(CEC_TOKEN_PATH, { app_key: "demoCecAk0001", app_secret: "demoCecSk0001" }, expire === undefined ? {} : { "x-token-expire": expire })

const callState = (accessToken: string | undefined, callSerialNo: unknown) =>
  post(CEC_QUERY_CALL_STATE_PATH, { callSerialNo }, accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` })

describe("tokenByAkSk", () => {
  it("answers the §5.1 fields, all strings", async () => {
    const t = await token("600")
    expect(t.status).toBe(200)
    expect(t.body).toMatchObject({ ApplyType: "Bearer", Expires: "600", AppKey: "demoCecAk0001", UserID: "Anonymous" })
    expect(Object.values(t.body).every((v) => typeof v === "string")).toBe(true)
    expect(Math.abs(Number(t.body["CreateTime"]) - emu.clock().epochMs / 1000)).toBeLessThan(2) // epoch seconds, emulator clock
  })

  it("refuses a wrong pair with 401; caps X-Token-Expire at 3600; rejects a non-number", async () => {
    expect((await post(CEC_TOKEN_PATH, { app_key: "demoCecAk0001", app_secret: "nope" })).status).toBe(401)
    expect((await token("86400")).body["Expires"]).toBe("3600")
    expect((await token("soon")).status).toBe(400)
  })

  it("a token expires on the emulator clock: 401 from then on", async () => {
    const t = (await token("600")).body["AccessToken"] as string
    emu.setCecCall("S1", { state: 1 })
    expect((await callState(t, "S1")).body["retCode"]).toBe("0")
    emu.advanceClock(599)
    expect((await callState(t, "S1")).status).toBe(200)
    emu.advanceClock(1)
    expect((await callState(t, "S1")).status).toBe(401)
  })
})

describe("queryCallState", () => {
  it("needs a Bearer token: none, a wrong one, or the wrong scheme is 401", async () => {
    const t = (await token()).body["AccessToken"] as string
    expect((await callState(undefined, "S1")).status).toBe(401)
    expect((await callState("forged", "S1")).status).toBe(401)
    expect((await post(CEC_QUERY_CALL_STATE_PATH, { callSerialNo: "S1" }, { authorization: `Basic ${t}` })).status).toBe(401)
  })

  it("retCode 3 for a malformed serial, 1 for an unknown one, 0 with the scripted state", async () => {
    const t = (await token()).body["AccessToken"] as string
    expect((await callState(t, "x".repeat(51))).body["retCode"]).toBe("3")
    expect((await callState(t, 42)).body["retCode"]).toBe("3")
    expect((await callState(t, "unknown")).body["retCode"]).toBe("1")
    const set = await control(emu, "PUT", "/cec/calls/CALL-1", { state: 3, reasonCode: 5, caller: "+8613800000001", called: "+8613900000001", startTime: 1_700_000_000_000 })
    expect(set.status).toBe(200)
    const answer = await callState(t, "CALL-1")
    expect(answer.body).toEqual({
      retCode: "0",
      retMsg: "success",
      result: { state: 3, reasonCode: 5, caller: "+8613800000001", called: "+8613900000001", startTime: 1_700_000_000_000, endTime: expect.any(Number) }
    })
    expect(Math.abs(answer.body["result"]["endTime"] - emu.clock().epochMs)).toBeLessThan(5000) // ended when scripted as ended
  })

  it("the states move as the test scripts them: 0 to be called, 1 calling, 2 talking, 3 ended", async () => {
    const t = (await token()).body["AccessToken"] as string
    const seen = []
    for (const state of [0, 1, 2, 3] as const) {
      emu.setCecCall("S2", { state })
      seen.push((await callState(t, "S2")).body["result"])
    }
    expect(seen.map((r) => r["state"])).toEqual([0, 1, 2, 3])
    expect(seen[0]["startTime"]).toBeUndefined()
    emu.advanceClock(30)
    expect(emu.setCecCall("S2", { state: 3 })).toMatchObject({ startTime: seen[1]["startTime"], endTime: seen[3]["endTime"] }) // times stay those of the first change
    expect(seen[3]).toMatchObject({ reasonCode: 0 })
    expect((await control(emu, "PUT", "/cec/calls/S2", { state: 4 })).status).toBe(400)
  })
})
