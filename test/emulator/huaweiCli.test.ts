/** `precall emulator` serves Huawei beside Aliyun: `--json` names both, and both answer. */
import { spawn } from "node:child_process"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"

const root = resolve(import.meta.dirname, "../..")
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PRECALL_|ALIBABA_CLOUD_|PORT$)/.test(k)))

describe("precall emulator", () => {
  it("--json announces the Aliyun and the Huawei emulator; --port 0 puts Huawei on a free port too", async () => {
    const child = spawn(process.execPath, ["src/cli/main.ts", "emulator", "--port", "0", "--json"], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] })
    try {
      const line = await new Promise<string>((done) => child.stdout.once("data", (c) => done(String(c))))
      const announced = JSON.parse(line) as { url: string; accessKeyId: string; huawei: { url: string; port: number; controlUrl: string; apps: Array<{ appKey: string; mode: string; auth: string }>; cecAk: string } }
      expect(announced.accessKeyId).toBe("precall-demo-key-id")
      expect(announced.huawei).toMatchObject({
        controlUrl: `${announced.huawei.url}/_emulator`,
        apps: [{ appKey: "demoAppKey0001", mode: "AXB", auth: "aksk" }, { appKey: "demoAxAppKey0001", mode: "AX", auth: "aksk" }],
        cecAk: "demoCecAk0001"
      })
      expect(announced.huawei.port).not.toBe(8932)
      expect((await fetch(`${announced.huawei.url}/_emulator/health`)).status).toBe(200)
      expect((await fetch(`${announced.url}/_emulator/health`)).status).toBe(200)
    } finally {
      child.kill("SIGTERM")
    }
  })
})
