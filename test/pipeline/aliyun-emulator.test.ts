/**
 * The whole pipeline over real HTTP on loopback: engine → Aliyun adapter (undici, signed) →
 * emulator, for every status and every fault kind, with both signature versions.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { Effect, Layer, ManagedRuntime } from "effect"
import { type Decision, decide, type DecideRequestInput, Engine, PrecallLive, type SettingsInput, settingsFromObject } from "../../src/index.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"

const A = "13800138000"
const B = "13900139000"

let emulator: RunningAliyunEmulator
beforeAll(async () => {
  emulator = await startAliyunEmulator({
    seed: 7,
    pools: [{ poolKey: "FC100000000001", numbers: Array.from({ length: 100 }, (_, i) => `170000000${String(i).padStart(2, "0")}`) },
      { poolKey: "FCTINY", numbers: ["17100000000"] }]
  })
})
afterAll(() => emulator.close())

/** Fallback-real decisions are audited (docs/audit.md): into a file of this run. */
const auditDir = mkdtempSync(join(tmpdir(), "precall-pipeline-"))
const audit = { auditHashSecret: "pipeline-audit-secret-0123456789", auditFile: join(auditDir, "exposures.jsonl") }
afterAll(() => rmSync(auditDir, { recursive: true, force: true }))
beforeEach(() => emulator.reset())

/** Runs decisions on an engine built from these settings against the emulator. */
const withEngine = async <A>(overrides: SettingsInput, body: (run: (req: DecideRequestInput) => Promise<Decision>) => Promise<A>) => {
  const settings = await Effect.runPromise(settingsFromObject({ aliyunEndpoint: emulator.url, ...audit, ...overrides }))
  const runtime = ManagedRuntime.make(PrecallLive(settings) as Layer.Layer<Engine>)
  try {
    return await body((req) => runtime.runPromise(decide(req)))
  } finally {
    await runtime.dispose()
  }
}

const axb = (poolKey = "FC100000000001") => {
  const b = emulator.createBinding({ mode: "AXB", poolKey, phoneNoA: A, phoneNoB: B, ttlSeconds: 3600 })
  return { b, req: { poolKey, subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: A } }
}

describe.each(["v3", "v1"] as const)("statuses with signature %s", (aliyunSignature) => {
  it("status 1 → use-x dialling X", () =>
    withEngine({ aliyunSignature }, async (run) => {
      const { b, req } = axb()
      const d = await run(req)
      expect(d).toMatchObject({ decision: "use-x", dial: b.phoneNoX, subsId: b.subsId, status: 1, source: "provider", attempts: 1 })
      expect(d.requestIds).toHaveLength(1)
    }))

  it("status 2 → use-temporary-x dialling the temporary X", () =>
    withEngine({ aliyunSignature }, async (run) => {
      const { b, req } = axb()
      emulator.setCallStatus(b.subsId, { status: 2, temporaryX: "17000000099" })
      expect(await run(req)).toMatchObject({ decision: "use-temporary-x", dial: "17000000099", status: 2, source: "provider" })
    }))

  it("status 3 → refuse by default, never carrying a number", () =>
    withEngine({ aliyunSignature }, async (run) => {
      const { b, req } = axb()
      emulator.setCallStatus(b.subsId, { status: 3 })
      const d = await run({ ...req, realCallee: B })
      expect(d).toMatchObject({ decision: "refuse", dial: null, status: 3 })
      expect(JSON.stringify(d)).not.toContain(B)
    }))

  it("status 3 with real fallback allowed → the callee from QuerySubscriptionDetail (the party that is not the caller)", () =>
    withEngine({ aliyunSignature, allowRealFallback: true }, async (run) => {
      const { b, req } = axb()
      emulator.setCallStatus(b.subsId, { status: 3 })
      expect(await run(req)).toMatchObject({ decision: "fallback-real", dial: B, status: 3, attempts: 2 })
      expect(await run({ ...req, callerNo: B })).toMatchObject({ decision: "fallback-real", dial: A })
      expect(await run({ ...req, realCallee: "13700137000" })).toMatchObject({ decision: "fallback-real", dial: "13700137000", attempts: 1 })
    }))

  it("status 4 → rebind in the same mode with parties from QuerySubscriptionDetail", () =>
    withEngine({ aliyunSignature }, async (run) => {
      const { b, req } = axb()
      emulator.advanceClock(7200)
      const d = await run(req)
      expect(d).toMatchObject({ decision: "rebind", status: 4, source: "provider", previousSubsId: b.subsId })
      expect(d.subsId).not.toBe(b.subsId)
      const fresh = emulator.binding(d.subsId!)
      expect(fresh).toMatchObject({ mode: "AXB", phoneNoA: A, phoneNoB: B, phoneNoX: d.dial })
      // the new binding answers status 1
      expect(await run({ ...req, subsId: d.subsId!, phoneNoX: d.dial! })).toMatchObject({ decision: "use-x", dial: d.dial })
    }))
})

describe("rebind", () => {
  it("keeps the AXN_EXTENSION mode and dials the new X with its extension", () =>
    withEngine({}, async (run) => {
      const b = emulator.createBinding({ mode: "AXN_EXTENSION", phoneNoA: A, phoneNoB: B, ttlSeconds: 60 })
      emulator.advanceClock(120)
      const d = await run({ poolKey: "FC100000000001", subsId: b.subsId, phoneNoX: b.phoneNoX, binding: { phoneNoA: A, phoneNoB: B, mode: "AXN_EXTENSION" } })
      expect(d).toMatchObject({ decision: "rebind", status: 4, attempts: 2 })
      expect(d.extension).toMatch(/^\d{1,3}$/)
      expect(emulator.binding(d.subsId!)).toMatchObject({ mode: "AXN_EXTENSION", extension: d.extension })
    }))

  it("on an exhausted pool ends in refuse (or fallback-real when allowed) with the pool code", async () => {
    const { req } = axb("FCTINY")
    emulator.advanceClock(7200)
    // the only X of the pool is taken by another live binding of the same parties
    emulator.createBinding({ mode: "AXB", poolKey: "FCTINY", phoneNoA: A, phoneNoB: "13600136000", ttlSeconds: 3600 })
    await withEngine({}, async (run) => {
      const d = await run(req)
      expect(d).toMatchObject({ decision: "refuse", status: 4, providerCode: "isv.NO_AVAILABLE_NUMBER", dial: null })
    })
    await withEngine({ allowRealFallback: true }, async (run) => {
      expect(await run(req)).toMatchObject({ decision: "fallback-real", dial: B, status: 4, providerCode: "isv.NO_AVAILABLE_NUMBER" })
    })
  })

  it("too slow for the deadline never dials the expired X", () =>
    withEngine({ deadlineMs: 400, attemptTimeoutMs: 300 }, async (run) => {
      const { req } = axb()
      emulator.advanceClock(7200)
      emulator.setFault("BindAxb", { latency: { kind: "fixed", ms: 2000 } })
      const started = performance.now()
      const d = await run(req)
      expect(performance.now() - started).toBeLessThan(400 + 150)
      expect(d).toMatchObject({ decision: "refuse", status: 4, dial: null })
      expect(d.reason).toContain("binding expired")
    }))
})

describe("faults", () => {
  const fast = { deadlineMs: 600, attemptTimeoutMs: 150, maxAttempts: 3, retryBaseMs: 5 }

  it.each([
    ["an isp.SYSTEM_ERROR business error", { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] }, "isp.SYSTEM_ERROR"],
    ["an HTTP 503 ServiceUnavailable", { errors: [{ code: "ServiceUnavailable", rate: 1 }] }, "ServiceUnavailable"],
    ["Throttling.User", { errors: [{ code: "Throttling.User", rate: 1 }] }, "Throttling.User"],
    ["a connection reset", { reset: { rate: 1 } }, "Transport.ConnectionError"],
    ["a truncated JSON body", { malformed: { rate: 1, kind: "truncated-json" as const } }, "Reply.Malformed"],
    ["an HTML 502 page", { malformed: { rate: 1, kind: "html-502" as const } }, "Reply.HttpStatus502"]
  ])("%s is retried, then degraded to use-x with the code in the reason", (_, fault, code) =>
    withEngine(fast, async (run) => {
      const { b, req } = axb()
      emulator.setFault("QueryCallStatus", fault)
      const d = await run(req)
      expect(d).toMatchObject({ decision: "use-x", dial: b.phoneNoX, source: "degraded", status: null, providerCode: code })
      expect(d.attempts).toBeGreaterThanOrEqual(2)
      expect(d.attempts).toBeLessThanOrEqual(3)
      expect(d.reason).toContain(code)
    }))

  it("a hanging provider costs one deadline, not more, and is degraded", () =>
    withEngine({ ...fast, degradedDecision: "refuse" }, async (run) => {
      const { req } = axb()
      emulator.setFault("QueryCallStatus", { hang: { rate: 1 } })
      const started = performance.now()
      const d = await run(req)
      expect(performance.now() - started).toBeLessThan(600 + 150)
      expect(d).toMatchObject({ decision: "refuse", source: "degraded", providerCode: "Transport.Timeout" })
      expect(d.attempts).toBeLessThanOrEqual(3)
    }))

  it("a configuration error (wrong secret) is tried once and degraded at once", () =>
    withEngine({ aliyunAccessKeyId: emulator.accessKeyId, aliyunAccessKeySecret: "not-the-secret" }, async (run) => {
      const { req } = axb()
      const d = await run(req)
      expect(d).toMatchObject({ decision: "use-x", source: "degraded", providerCode: "SignatureDoesNotMatch", attempts: 1 })
    }))

  it("a 50 % error rate is mostly absorbed by retries", () =>
    withEngine({ ...fast, maxAttempts: 4, statusTtlMs: 0, breakerOpenMs: 0 }, async (run) => {
      const { req } = axb()
      emulator.setFault("QueryCallStatus", { errors: [{ code: "isp.SYSTEM_ERROR", rate: 0.5 }] })
      const ds = []
      for (let i = 0; i < 20; i++) ds.push(await run(req))
      const retriedAndAnswered = ds.filter((d) => d.source === "provider" && d.attempts > 1)
      expect(retriedAndAnswered.length).toBeGreaterThan(0)
      expect(ds.filter((d) => d.source === "provider").length).toBeGreaterThanOrEqual(15)
      expect(emulator.stats().actions["QueryCallStatus"]?.requests).toBe(ds.reduce((n, d) => n + d.attempts, 0))
    }))

  it("every retry is signed afresh: the emulator never sees a replayed nonce", () =>
    withEngine({ ...fast, maxAttempts: 3 }, async (run) => {
      const { req } = axb()
      emulator.setFault("QueryCallStatus", { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] })
      const d = await run(req)
      expect(d.providerCode).toBe("isp.SYSTEM_ERROR")
      expect(d.attempts).toBe(3)
    }))
})
