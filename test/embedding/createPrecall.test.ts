/** The Promise API's edges: settings refused up front, and close() with decisions in flight. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPrecall, PrecallError } from "../../src/precall.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"

let emulator: RunningAliyunEmulator
beforeAll(async () => {
  emulator = await startAliyunEmulator()
})
afterAll(() => emulator.close())

describe("createPrecall", () => {
  it("rejects bad settings with INVALID_SETTINGS listing every problem, before connecting anything", async () => {
    const error = await createPrecall({ deadlineMs: -5, maxAttempts: 0, aliyunEndpoint: "http://dyplsapi.aliyuncs.com" }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PrecallError)
    const e = error as PrecallError
    expect(e.code).toBe("INVALID_SETTINGS")
    expect(e.issues.map((i) => i.path).sort()).toEqual(["aliyunEndpoint", "deadlineMs", "maxAttempts"])
  })

  it("rejects a real endpoint without a key pair, naming ALIBABA_CLOUD_ACCESS_KEY_ID", async () => {
    const error = (await createPrecall({ aliyunEndpoint: "https://dyplsapi.aliyuncs.com" }).catch((e: unknown) => e)) as PrecallError
    expect([error.code, error.issues.map((i) => i.path)]).toEqual(["INVALID_SETTINGS", ["ALIBABA_CLOUD_ACCESS_KEY_ID"]])
  })

  it("close() with decisions in flight lets them finish with a decision, then closes; later calls reject with CLOSED", async () => {
    const b = emulator.createBinding({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 3600 })
    emulator.setFault("QueryCallStatus", { latency: { kind: "fixed", ms: 300 } })
    try {
      const precall = await createPrecall({ aliyunEndpoint: emulator.url, deadlineMs: 2000, statusTtlMs: 0 })
      const request = { poolKey: "FC100000000001", subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: "13800138000" }
      const inFlight = [0, 1, 2].map(() => precall.decide(request).then((d) => d.decision, (e: unknown) => e instanceof PrecallError ? e.code : `other: ${String(e)}`))
      await new Promise((r) => setTimeout(r, 50))
      await precall.close()
      const settled = await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(() => r("hung"), 5000))])
      expect(settled).not.toBe("hung")
      expect(settled).toEqual(["use-x", "use-x", "use-x"])
      await expect(precall.decide(request)).rejects.toMatchObject({ code: "CLOSED" })
    } finally {
      emulator.clearFaults()
    }
  })
})
