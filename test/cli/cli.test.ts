/** The `precall` command as a user runs it: help with defaults, version, one-line errors and exit codes. */
import { spawn, spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"

const root = resolve(import.meta.dirname, "../..")
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PRECALL_|ALIBABA_CLOUD_|PORT$)/.test(k)))
const precall = (...args: ReadonlyArray<string>) =>
  spawnSync(process.execPath, ["src/cli/main.ts", ...args], { cwd: root, env, encoding: "utf8", timeout: 20_000 })

describe("precall", () => {
  it("--version prints package.json's version", () => {
    const { version } = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as { version: string }
    const r = precall("--version")
    expect([r.status, r.stdout.trim()]).toEqual([0, `precall v${version}`])
  })

  it.each([
    ["decide", ["--pool-key", "--subs-id", "--phone-no-x", "--caller-no", "--phone-no-a", "--phone-no-b", "--mode", "--extension"]],
    ["serve", ["--port", "--host", "--demo"]],
    ["emulator", ["--port", "--huawei-port", "--huawei-callback-url", "--config", "--control-token", "--json"]]
  ])("%s --help lists every flag with its default", (command, flags) => {
    const r = precall(command, "--help")
    expect(r.status).toBe(0)
    for (const flag of flags) {
      const line = r.stdout.split("\n").find((l) => l.trimStart().startsWith(flag))
      expect(line, `${command} ${flag}`).toBeDefined()
      if (!["--pool-key", "--subs-id", "--phone-no-x"].includes(flag)) expect(line, `${command} ${flag}`).toMatch(/default/)
    }
  })

  it.each([
    [["decide", "--bogus"], /^precall: Unrecognized flag: --bogus.*\(see precall decide --help\)$/],
    [["decide", "--pool-key", "FC100000000001"], /^precall: Missing required flag: --subs-id/],
    [["nosuch"], /^precall: .*nosuch/],
    [["decide", "--pool-key", "FC100000000001", "--subs-id", "1", "--phone-no-x", "17000000000"], /^precall: invalid precall settings: ALIBABA_CLOUD_ACCESS_KEY_ID: /]
  ])("%j exits 2 with one line on stderr", (args, message) => {
    const r = precall(...args)
    expect(r.status).toBe(2)
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1)
    expect(r.stderr.trim()).toMatch(message)
    expect(r.stdout).toBe("")
  })

  it("decide prints the decision as one JSON line and exits 0", async () => {
    const emulator = await startAliyunEmulator()
    try {
      const b = emulator.createBinding({ mode: "AXB", phoneNoA: "13800138000", phoneNoB: "13900139000", ttlSeconds: 3600 })
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(process.execPath, ["src/cli/main.ts", "decide", "--pool-key", "FC100000000001", "--subs-id", b.subsId, "--phone-no-x", b.phoneNoX, "--caller-no", "13800138000"], {
          cwd: root, env: { ...env, PRECALL_ALIYUN_ENDPOINT: emulator.url }, stdio: ["ignore", "pipe", "pipe"]
        })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (c) => (stdout += String(c)))
        child.stderr.on("data", (c) => (stderr += String(c)))
        child.once("exit", (status) => done({ status, stdout, stderr }))
      })
      expect([r.status, r.stderr]).toEqual([0, ""])
      const lines = r.stdout.trim().split("\n")
      expect(lines).toHaveLength(1)
      expect(JSON.parse(lines[0]!)).toMatchObject({ decision: "use-x", dial: b.phoneNoX, status: 1, source: "provider" })
    } finally {
      await emulator.close()
    }
  })

  it("emulator without --json announces itself in a sentence", async () => {
    const child = spawn(process.execPath, ["src/cli/main.ts", "emulator", "--port", "0"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
    const line = await new Promise<string>((done) => child.stdout.once("data", (c) => done(String(c))))
    child.kill("SIGTERM")
    expect(line).toMatch(/^Aliyun Dyplsapi emulator listening on http:\/\/127\.0\.0\.1:\d+ /)
  })
})
