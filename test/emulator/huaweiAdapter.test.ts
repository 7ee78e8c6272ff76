/**
 * precall's Huawei adapter against the Huawei emulator, as a user runs it (`precall decide --provider
 * huawei`): signatures, E.164 numbers, the binding query and the rebind all agree on the wire.
 */
import { spawn } from "node:child_process"
import { resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startHuaweiEmulator } from "../../src/emulator/huawei/index.ts"
import type { RunningHuaweiEmulator } from "../../src/emulator/huawei/index.ts"

const root = resolve(import.meta.dirname, "../..")
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PRECALL_|ALIBABA_CLOUD_|PORT$)/.test(k)))

let emu: RunningHuaweiEmulator
beforeAll(async () => {
  emu = await startHuaweiEmulator()
})
afterAll(() => emu.close())

/** Asynchronously: the emulator answers from this process, so a blocking spawn would starve it. */
const decide = (subsId: string, x: string): Promise<Record<string, unknown>> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, [
      "src/cli/main.ts", "decide", "--provider", "huawei", "--subs-id", subsId, "--phone-no-x", x, "--caller-no", "13800138000",
      "--phone-no-a", "13800138000", "--phone-no-b", "13900139000", "--mode", "AXB"
    ], { cwd: root, env: { ...env, PRECALL_HUAWEI_ENDPOINT: emu.url }, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (c) => (out += String(c)))
    child.once("exit", () => {
      try {
        done(JSON.parse(out) as Record<string, unknown>)
      } catch (e) {
        fail(e)
      }
    })
  })

describe("the Huawei adapter against the emulator", () => {
  it("use-x while the binding lives; rebind on a new X binding once it has expired", async () => {
    const b = emu.createBinding({ mode: "AXB", callerNum: "+8613800138000", calleeNum: "+8613900139000", duration: 3600 })
    const x = (b["relationNum"] as string).slice(3)
    expect(await decide(b.subscriptionId, x)).toMatchObject({ decision: "use-x", dial: x, source: "provider", provider: "huawei" })
    emu.advanceClock(3601)
    const rebound = await decide(b.subscriptionId, x)
    expect(rebound).toMatchObject({ decision: "rebind", source: "provider", previousSubsId: b.subscriptionId })
    expect(emu.binding(rebound["subsId"] as string)).toMatchObject({ callerNum: "+8613800138000", calleeNum: "+8613900139000" })
    expect(emu.stats().actions).toMatchObject({ axbQuery: { codes: { "0": 1, "1012007": 1 } }, axbBind: { codes: { "0": 1 } } })
  })
})
