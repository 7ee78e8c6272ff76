/**
 * Pushes from the Huawei emulator to a loopback receiver: signed as Huawei signs them (verified with
 * the signature module the push route uses), shaped so precall's push codec parses them, numStatus
 * on X changes, call events and CDRs from scripted calls, and the re-push schedule on the emulator
 * clock (advanceClock drives it; nothing sleeps).
 */
import { Redacted, Result } from "effect"
import { createServer } from "node:http"
import type { IncomingHttpHeaders, Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { REPUSH_MINUTES, startHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import type { HuaweiEmulatorOptions, RunningHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import { parseHuaweiPush } from "../../src/providers/huawei/pushCodec.ts"
import { verifyUsernameToken } from "../../src/providers/huawei/signature.ts"
import type { HuaweiApp } from "../../src/providers/huawei/signature.ts"
import { A, AX_CALLEE_PATH, B, C, D, hw } from "./huaweiSupport.ts"

interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: Record<string, any>
}

/** A callback endpoint: records every push, answers each with the next scripted status (then 200), or never. */
class Receiver {
  readonly received: Array<Received> = []
  statuses: Array<number | "hang"> = []
  server!: Server
  url = ""

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        this.received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) })
        const next = this.statuses.shift() ?? 200
        if (next === "hang") return
        res.writeHead(next).end()
      })
    })
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/providers/huawei/events`
  }

  stop(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

const receiver = new Receiver()
const started: Array<RunningHuaweiEmulator> = []
const start = async (o: HuaweiEmulatorOptions = {}) => {
  const emu = await startHuaweiEmulator({ callbackUrl: receiver.url, ...o })
  started.push(emu)
  return emu
}
beforeAll(() => receiver.start())
afterAll(() => receiver.stop())
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()))
  receiver.received.length = 0
  receiver.statuses = []
})

const appView = (emu: RunningHuaweiEmulator, mode: "AXB" | "AX", auth?: "aksk" | "wsse"): HuaweiApp => {
  const a = emu.apps.find((x) => x.mode === mode)!
  return { appKey: a.appKey, appSecret: Redacted.make(a.appSecret), auth: auth ?? a.auth }
}

/** What precall's receiver would do: verify the token, then parse the body. */
const accepted = (r: Received, app: HuaweiApp) => {
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]))
  return { verified: verifyUsernameToken(headers, [app]) !== undefined, parsed: Result.isSuccess(parseHuaweiPush(r.body)) }
}

describe("numStatus", () => {
  it("an X status change pushes numStatus, signed with the owning app; an unchanged status pushes nothing", async () => {
    const emu = await start()
    expect(emu.setXStatus("+8617000000000", "9", "2").pushId).toBe(1)
    expect(emu.setXStatus("+8617000000000", "9", "2").pushId).toBeNull()
    emu.setXStatus("+8617000000100", "10", "1") // an AX app's X
    emu.setXStatus("+8617000000000", "5", "2") // recovery: no cause on a usable X
    await emu.settlePushes()
    expect(receiver.received.map((r) => r.body)).toEqual([
      { eventType: "numStatus", numInfo: [{ number: "+8617000000000", status: "9", cause: "2" }] },
      { eventType: "numStatus", numInfo: [{ number: "+8617000000100", status: "10", cause: "1" }] },
      { eventType: "numStatus", numInfo: [{ number: "+8617000000000", status: "5" }] }
    ])
    expect(receiver.received.map((r, i) => accepted(r, appView(emu, i === 1 ? "AX" : "AXB")))).toEqual(Array(3).fill({ verified: true, parsed: true }))
    expect(receiver.received[0]!.headers["content-type"]).toBe("application/json;charset=UTF-8")
    expect(emu.stats().pushes).toMatchObject({ created: 3, sent: 3, delivered: 3, failed: 0, pending: 0 })
  })

  it("arrears pauses every normal X (status 9, cause 2) in one push per app; active lifts only that pause", async () => {
    const emu = await start()
    emu.setXStatus("+8617000000001", "10", "3")
    expect(emu.setAccountState("arrears").pushIds).toHaveLength(2)
    expect(emu.state().pool.filter((x) => x.status === "9" && x.cause === "2")).toHaveLength(21)
    emu.setXStatus("+8617000000002", "11") // set by hand while paused: stays as set
    emu.setAccountState("active")
    await emu.settlePushes()
    const pushes = receiver.received.map((r) => r.body)
    expect(pushes[1]!["numInfo"]).toHaveLength(15)
    expect(pushes[1]!["numInfo"][0]).toEqual({ number: "+8617000000000", status: "9", cause: "2" })
    expect(pushes[2]!["numInfo"]).toHaveLength(6)
    expect(pushes.slice(4).flatMap((p) => p["numInfo"]).map((i: { status: string }) => i.status)).toEqual(Array(20).fill("5"))
    expect(emu.state().pool.filter((x) => x.status !== "5").map((x) => [x.number, x.status])).toEqual([["+8617000000001", "10"], ["+8617000000002", "11"]])
    const modeOf = (x: string) => emu.state().pool.find((n) => n.number === x)!.appKey === "demoAxAppKey0001" ? "AX" : "AXB"
    expect(receiver.received.every((r) => accepted(r, appView(emu, modeOf(r.body["numInfo"][0].number))).verified)).toBe(true)
  })

  it("signs with the push scheme when one is set (huawei.md §2: some pages push WSSE)", async () => {
    const emu = await start({ pushAuth: "wsse" })
    emu.setXStatus("+8617000000000", "11")
    await emu.settlePushes()
    const r = receiver.received[0]!
    expect(r.headers["x-wsse"]).toBeDefined()
    expect(accepted(r, appView(emu, "AXB", "wsse")).verified).toBe(true)
    expect(accepted(r, appView(emu, "AXB", "aksk")).verified).toBe(false)
  })
})

describe("scripted calls", () => {
  it("an answered call pushes callin, callout, alerting, answer, disconnect (stateCode 0) and a fee CDR, all one sessionId", async () => {
    const emu = await start()
    const b = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B, userData: "order-7" })
    const call = emu.endCall({ subscriptionId: b.subscriptionId, talkSeconds: 30 })
    expect(call).toMatchObject({ subscriptionId: b.subscriptionId, stateCode: 0, answered: true })
    await emu.settlePushes()
    const bodies = receiver.received.map((r) => r.body)
    expect(bodies.map((x) => x["eventType"])).toEqual(["callin", "callout", "alerting", "answer", "disconnect", "fee"])
    expect(new Set(bodies.map((x) => x["statusInfo"]?.["sessionId"] ?? x["feeLst"][0]["sessionId"]))).toEqual(new Set([call.sessionId]))
    expect(bodies[0]!["statusInfo"]).toMatchObject({ subscriptionId: b.subscriptionId, caller: A, userData: "order-7" })
    expect(bodies[4]!["statusInfo"]).toMatchObject({ stateCode: 0 })
    const fee = bodies[5]!["feeLst"][0]
    expect(fee).toMatchObject({ bindNum: b["relationNum"], subscriptionId: b.subscriptionId, callerNum: A, fwdDstNum: B, ulFailReason: 0, serviceType: "004", appKey: "demoAppKey0001" })
    expect(fee["fwdAnswerTime"]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    expect(Date.parse(`${fee["callEndTime"].replace(" ", "T")}Z`) - Date.parse(`${fee["fwdAnswerTime"].replace(" ", "T")}Z`)).toBe(30_000)
    expect(receiver.received.every((r) => Object.values(accepted(r, appView(emu, "AXB"))).every(Boolean))).toBe(true)
  })

  it("a busy callee: unanswered, Q.850 17 on the forwarded leg, failTime and no fwdAnswerTime", async () => {
    const emu = await start()
    const b = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B })
    emu.endCall({ subscriptionId: b.subscriptionId, stateCode: 8102 })
    await emu.settlePushes()
    const bodies = receiver.received.map((r) => r.body)
    expect(bodies.map((x) => x["eventType"])).toEqual(["callin", "callout", "alerting", "disconnect", "fee"])
    const fee = bodies[4]!["feeLst"][0]
    expect(fee).toMatchObject({ ulFailReason: 8102, fwdUnaswRsn: 17 })
    expect(fee["fwdAnswerTime"]).toBeUndefined()
    expect(fee["failTime"]).toBeDefined()
  })

  it("the platform's own refusals: 8014 no binding (empty subscriptionId), 8055 X without call right, 8016 direction, 8013 AX, 7108 account", async () => {
    const emu = await start()
    const stateOf = (s: Parameters<RunningHuaweiEmulator["endCall"]>[0]) => emu.endCall({ ...s, fee: false, events: ["disconnect"] })
    const b = emu.createBinding({ mode: "AXB", callerNum: A, calleeNum: B, callDirection: 1 })
    const x = b["relationNum"] as string
    const stranger = emu.endCall({ relationNum: x, callerNum: C })
    expect([stranger.stateCode, stranger.subscriptionId]).toEqual([8014, ""])
    expect(stateOf({ subscriptionId: b.subscriptionId, callerNum: D }).subscriptionId).toBe("") // not a party of the binding
    expect(stateOf({ subscriptionId: b.subscriptionId, callerNum: B }).stateCode).toBe(8016)
    expect(stateOf({ subscriptionId: b.subscriptionId }).stateCode).toBe(0)
    const axBinding = emu.createBinding({ mode: "AX", origNum: D })
    expect(stateOf({ subscriptionId: axBinding.subscriptionId }).stateCode).toBe(8013)
    expect(stateOf({ subscriptionId: axBinding.subscriptionId, callerNum: C }).stateCode).toBe(0)
    // a temporary callee lets A through X for a minute (huawei.md §3.2)
    const callee = await hw(emu, "PUT", AX_CALLEE_PATH, { subscriptionId: axBinding.subscriptionId, calleeNum: B }, { appKey: "demoAxAppKey0001" })
    expect(callee.body["resultcode"]).toBe("0")
    emu.advanceClock(59)
    expect(stateOf({ subscriptionId: axBinding.subscriptionId }).stateCode).toBe(0)
    emu.advanceClock(2)
    expect(stateOf({ subscriptionId: axBinding.subscriptionId }).stateCode).toBe(8013)
    emu.setXStatus(x, "10", "3")
    expect(stateOf({ subscriptionId: b.subscriptionId }).stateCode).toBe(8055)
    emu.setXStatus(x, "11")
    expect(stateOf({ subscriptionId: b.subscriptionId }).stateCode).toBe(0) // binding frozen: existing bindings still call
    emu.setAccountState("frozen")
    expect(stateOf({ subscriptionId: b.subscriptionId }).stateCode).toBe(7108)
    await emu.settlePushes()
    const fee = receiver.received.find((r) => r.body["eventType"] === "fee")!.body["feeLst"][0]
    expect(fee).toMatchObject({ subscriptionId: "", ulFailReason: 8014, bindNum: x, fwdDstNum: "" })
    expect(receiver.received.every((r) => accepted(r, appView(emu, r.body["feeLst"]?.[0]?.["serviceType"] === "003" ? "AX" : "AXB")).parsed)).toBe(true)
  })
})

describe("re-push", () => {
  it("without a 200, pushes again 1, 4, 9, 106, 203 and 300 minutes after each try, on the emulator clock, then gives up", async () => {
    expect(REPUSH_MINUTES).toEqual([1, 4, 9, 106, 203, 300]) // huawei.md §4
    const emu = await start()
    receiver.statuses = Array(10).fill(500)
    emu.setXStatus("+8617000000000", "9", "5")
    await emu.settlePushes()
    const tries = () => emu.pushes()[0]!.attempts.length
    expect(tries()).toBe(1)
    for (const minutes of REPUSH_MINUTES) {
      emu.advanceClock(minutes * 60 - 1)
      await emu.settlePushes()
      expect(tries(), `${minutes} min minus 1 s`).toBe(REPUSH_MINUTES.indexOf(minutes) + 1)
      emu.advanceClock(1)
      await emu.settlePushes()
      expect(tries(), `${minutes} min`).toBe(REPUSH_MINUTES.indexOf(minutes) + 2)
    }
    emu.advanceClock(24 * 3600)
    await emu.settlePushes()
    const push = emu.pushes()[0]!
    expect([push.state, push.attempts.length, receiver.received.length]).toEqual(["gave-up", 7, 7])
    const at = push.attempts.map((a) => Date.parse(a.at))
    expect(at.slice(1).map((t, i) => Math.round((t - at[i]!) / 60_000))).toEqual([...REPUSH_MINUTES])
    expect(push.attempts.every((a) => a.status === 500)).toBe(true)
    // every try signed afresh: a receiver's replay check lets each through
    const nonces = receiver.received.map((r) => /Nonce="([^"]+)"/.exec(String(r.headers["x-aksk"]))![1])
    expect(new Set(nonces).size).toBe(7)
    expect(emu.stats().pushes).toMatchObject({ created: 1, sent: 7, failed: 7, delivered: 0, gaveUp: 1, pending: 0 })
  })

  it("a 200 on a re-push delivers it; the same body is sent each time", async () => {
    const emu = await start()
    receiver.statuses = [503]
    emu.setXStatus("+8617000000000", "9", "2")
    await emu.settlePushes()
    expect(emu.pushes()[0]!.state).toBe("pending")
    emu.advanceClock(60)
    await emu.settlePushes()
    expect(emu.pushes()[0]).toMatchObject({ state: "delivered", nextAttemptAt: undefined })
    expect(receiver.received[0]!.body).toEqual(receiver.received[1]!.body)
    expect(emu.stats().pushes).toMatchObject({ sent: 2, delivered: 1, failed: 1 })
  })

  it("a receiver that does not answer in time counts as a failure and is pushed again", async () => {
    const emu = await start({ pushTimeoutMs: 100 })
    receiver.statuses = ["hang"]
    emu.setXStatus("+8617000000000", "9", "2")
    await emu.settlePushes()
    expect(emu.pushes()[0]!.attempts).toMatchObject([{ status: undefined, error: "timeout" }])
    emu.advanceClock(60)
    await emu.settlePushes()
    expect(emu.pushes()[0]!.state).toBe("delivered")
  })

  it("left running, the emulator re-pushes on its own when the wait is over", async () => {
    const emu = await start()
    receiver.statuses = [500]
    emu.setXStatus("+8617000000000", "9", "2")
    await emu.settlePushes()
    emu.advanceClock(59.9) // the last 100 ms pass in real time
    for (let i = 0; i < 250 && emu.pushes()[0]!.state !== "delivered"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      await emu.settlePushes()
    }
    expect(emu.pushes()[0]).toMatchObject({ state: "delivered", attempts: [{ status: 500 }, { status: 200 }] })
  })

  it("an unreachable callback URL fails and waits for its re-push", async () => {
    const emu = await start({ callbackUrl: "http://127.0.0.1:9/none" })
    emu.setXStatus("+8617000000000", "9", "2")
    await emu.settlePushes()
    expect(emu.pushes()[0]).toMatchObject({ state: "pending", attempts: [{ status: undefined }] })
  })
})

describe("callback configuration", () => {
  it("without a callback URL pushes are recorded, not sent; a non-loopback URL is refused at start", async () => {
    const emu = await start({ callbackUrl: undefined })
    emu.setXStatus("+8617000000000", "9", "2")
    expect(emu.pushes()[0]!.state).toBe("no-callback")
    await expect(startHuaweiEmulator({ callbackUrl: "https://example.com/push" })).rejects.toThrow(/loopback/)
  })
})

describe("callback URL set after start", () => {
  it("pushes created after setCallbackUrl go there (the state says where); a non-loopback URL is refused", async () => {
    const emu = await start({ callbackUrl: undefined })
    expect(() => emu.setCallbackUrl("https://example.com/push")).toThrow(/loopback/)
    emu.setCallbackUrl(receiver.url)
    expect(emu.state().callbackUrl).toBe(receiver.url)
    emu.setXStatus("+8617000000000", "10")
    await emu.settlePushes()
    expect(emu.pushes().map((p) => p.state)).toEqual(["delivered"])
    expect(receiver.received.map((r) => r.body["eventType"])).toEqual(["numStatus"])
  })
})
