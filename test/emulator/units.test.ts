/** The emulator's small parts on their own: Beijing time, timestamps, nonces, throttling, fault draws, form parsing, the CLI. */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { formatBeijing, parseAliyunTimestamp, parseBeijing } from "../../src/emulator/aliyun/clock.ts"
import { drawPlan, makeRandom, ThrottleWindow } from "../../src/emulator/faults.ts"
import { NonceStore } from "../../src/emulator/aliyun/nonces.ts"
import { parseForm } from "../../src/emulator/aliyun/wire.ts"

describe("Beijing time", () => {
  it("Expiration strings are UTC+8", () => {
    expect(parseBeijing("2026-01-02 11:04:05")).toBe(Date.UTC(2026, 0, 2, 3, 4, 5))
    expect(formatBeijing(Date.UTC(2026, 0, 2, 20, 0, 0))).toBe("2026-01-03 04:00:00")
  })

  it("rejects other shapes and impossible dates", () => {
    for (const s of ["2026-02-30 00:00:00", "2026-01-02T11:04:05", "2026-1-2 11:04:05", "2026-01-02 24:00:00", ""]) {
      expect(parseBeijing(s)).toBeUndefined()
    }
  })

  it("round-trips any second", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4_000_000_000 }), (s) => parseBeijing(formatBeijing(s * 1000)) === s * 1000), { seed: 1 })
  })
})

describe("gateway timestamps", () => {
  it("only yyyy-MM-ddTHH:mm:ssZ", () => {
    expect(parseAliyunTimestamp("2026-01-02T03:04:05Z")).toBe(Date.UTC(2026, 0, 2, 3, 4, 5))
    for (const s of ["2026-01-02T03:04:05.000Z", "2026-01-02T03:04:05+08:00", "2026-01-02 03:04:05", "2026-02-30T00:00:00Z"]) {
      expect(parseAliyunTimestamp(s)).toBeUndefined()
    }
  })
})

describe("NonceStore", () => {
  it("refuses a nonce within the window and forgets it after", () => {
    const nonces = new NonceStore(900_000, 100)
    expect(nonces.claim("a", 0, 0)).toBe(true)
    expect(nonces.claim("a", 0, 899_999)).toBe(false)
    // at the window's edge the timestamp check still accepts t = 0, so the nonce is still refused
    expect(nonces.claim("a", 0, 900_000)).toBe(false)
    expect(nonces.claim("b", 900_001, 900_001)).toBe(true)
    expect(nonces.size).toBe(1)
    expect(nonces.claim("a", 900_001, 900_001)).toBe(true)
  })

  it("never holds more than its cap", () => {
    const nonces = new NonceStore(900_000, 3)
    for (const n of ["a", "b", "c", "d"]) nonces.claim(n, 0, 0)
    expect(nonces.size).toBe(3)
    expect(nonces.claim("a", 0, 1)).toBe(true)
  })
})

describe("ThrottleWindow", () => {
  it("passes qps requests per sliding second and says when the next slot frees", () => {
    const w = new ThrottleWindow()
    expect([0, 100, 200].map((t) => w.admit(2, t))).toEqual([0, 0, 800])
    expect(w.admit(2, 1000)).toBe(0)
    expect(w.admit(2, 1050)).toBe(50)
    expect(w.admit(2, 1100)).toBe(0)
  })
})

describe("fault draws", () => {
  it("are deterministic per seed and respect the rates", () => {
    const spec = { errors: [{ code: "isp.SYSTEM_ERROR", rate: 0.1 }, { code: "InternalError", rate: 0.2 }] }
    const draw = (seed: number) => {
      const random = makeRandom(seed)
      return Array.from({ length: 10_000 }, () => {
        const o = drawPlan(spec, random).outcome
        return o.kind === "error" ? o.error.code : o.kind
      })
    }
    const codes = draw(3)
    expect(draw(3)).toEqual(codes)
    const share = (c: string) => codes.filter((x) => x === c).length / codes.length
    expect(share("isp.SYSTEM_ERROR")).toBeCloseTo(0.1, 1)
    expect(share("InternalError")).toBeCloseTo(0.2, 1)
  })

  it("latency: uniform stays in range, normal is never negative", () => {
    const random = makeRandom(5)
    for (let i = 0; i < 1000; i++) {
      const u = drawPlan({ latency: { kind: "uniform", minMs: 10, maxMs: 20 } }, random).delayMs
      expect(u >= 10 && u <= 20).toBe(true)
      expect(drawPlan({ latency: { kind: "normal", meanMs: 5, stddevMs: 50 } }, random).delayMs).toBeGreaterThanOrEqual(0)
    }
  })
})

describe("parseForm", () => {
  it("decodes %XX and + as space; undefined for malformed encoding", () => {
    expect({ ...parseForm("A=%E6%9D%AD%E5%B7%9E&B=a+b%20c&C&D=") }).toEqual({ A: "杭州", B: "a b c", C: "", D: "" })
    expect(parseForm("A=%E0%A4%A")).toBeUndefined()
    expect(Object.getPrototypeOf(parseForm("__proto__=x"))).toBeNull()
  })
})

describe("runAliyunEmulatorCli", () => {
  it("prints the URL and key id, serves, and stops on SIGTERM", async () => {
    const index = fileURLToPath(new URL("../../src/emulator/aliyun/index.ts", import.meta.url))
    const child = spawn(process.execPath, ["--input-type=module", "-e", `import(${JSON.stringify(index)}).then((m) => m.runAliyunEmulatorCli(0))`], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    const line = await new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString())))
    expect(line).toMatch(/^Aliyun Dyplsapi emulator listening on http:\/\/127\.0\.0\.1:\d+ \(AccessKeyId \S+; control API /)
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!
    expect((await fetch(`${url}/_emulator/health`)).status).toBe(200)
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
  })
})
