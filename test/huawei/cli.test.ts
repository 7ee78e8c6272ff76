/** `precall decide --provider huawei` as a user runs it, against a loopback fake Huawei with the emulator's demo apps. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { spawn } from "node:child_process"
import { resolve } from "node:path"
import { DEMO_AX_APP_KEY, DEMO_AX_APP_SECRET } from "../../src/providers/huawei/credentials.ts"
import { AX_PATH, AXB_PATH } from "../../src/providers/huawei/client.ts"
import { axbApp, fakeHuawei, ok, refused } from "./fakeHuawei.ts"

const root = resolve(import.meta.dirname, "../..")
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PRECALL_|ALIBABA_CLOUD_|PORT$)/.test(k)))
const axDemo = { appKey: DEMO_AX_APP_KEY, appSecret: Redacted.make(DEMO_AX_APP_SECRET), auth: "aksk" as const }

const run = (args: ReadonlyArray<string>, extraEnv: Record<string, string>) =>
  Effect.callback<{ readonly status: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawn(process.execPath, ["src/cli/main.ts", ...args], { cwd: root, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c) => (stdout += String(c)))
    child.stderr.on("data", (c) => (stderr += String(c)))
    child.once("exit", (status) => resume(Effect.succeed({ status, stdout, stderr })))
  })

describe("precall decide --provider huawei", () => {
  it.live("decides on Huawei alone; an AX binding not yet cached is found on the AX API after AXB knows none", () =>
    Effect.gen(function*() {
      const fake = yield* fakeHuawei([axbApp, axDemo], (req) =>
        req.path === AX_PATH
          ? ok({ privateNumList: [{ subscriptionId: "ax-1", privateNum: "+8617000000001", origNum: "+8613800138000" }] })
          : refused("1012007", "record does not exist"))
      const r = yield* run(
        ["decide", "--provider", "huawei", "--subs-id", "ax-1", "--phone-no-x", "17000000001", "--caller-no", "13900139000", "--phone-no-a", "13800138000", "--mode", "AX"],
        { PRECALL_HUAWEI_ENDPOINT: fake.url, PRECALL_DEADLINE_MS: "8000", PRECALL_ATTEMPT_TIMEOUT_MS: "4000" }
      )
      assert.strictEqual(r.status, 0, r.stderr)
      const decision = JSON.parse(r.stdout.trim()) as Record<string, unknown>
      assert.deepStrictEqual(
        [decision["decision"], decision["provider"], decision["dial"], decision["poolKey"], decision["source"]],
        ["use-x", "huawei", "17000000001", "huawei", "provider"]
      )
      assert.deepStrictEqual(fake.received.map((x) => [x.path, x.appKey]), [[AXB_PATH, "demoAppKey0001"], [AX_PATH, "demoAxAppKey0001"]])
    }).pipe(Effect.scoped), 30_000)

  it.live("with Huawei alone configured, neither --provider nor --pool-key is needed", () =>
    Effect.gen(function*() {
      const fake = yield* fakeHuawei([axbApp, axDemo], () => ok({ relationNumList: [{ subscriptionId: "s1", relationNum: "+8617000000001", duration: 0 }] }))
      const r = yield* run(["decide", "--subs-id", "s1", "--phone-no-x", "17000000001"], {
        PRECALL_HUAWEI_ENDPOINT: fake.url, PRECALL_DEADLINE_MS: "8000", PRECALL_ATTEMPT_TIMEOUT_MS: "4000"
      })
      assert.strictEqual(r.status, 0, r.stderr)
      const decision = JSON.parse(r.stdout.trim()) as Record<string, unknown>
      assert.deepStrictEqual([decision["decision"], decision["provider"], decision["poolKey"]], ["use-x", "huawei", "huawei"])
    }).pipe(Effect.scoped), 30_000)
})
