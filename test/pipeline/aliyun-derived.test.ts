/**
 * The whole pipeline over loopback against an Aliyun that no longer serves QueryCallStatus: the
 * engine decides from QuerySubscriptionDetail and QuerySecretNoDetail (PRECALL_ALIYUN_STATUS_SOURCE
 * auto), and from the X's call outcomes.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { Effect, Layer, ManagedRuntime } from "effect"
import { type Decision, decide, type DecideRequestInput, Engine, PrecallLive, type SettingsInput, settingsFromObject } from "../../src/index.ts"
import { type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { reportOutcome } from "../../src/evidence/outcomes.ts"
import type { Outcomes } from "../../src/evidence/outcomes.ts"

const A = "13800138000"
const B = "13900139000"

let emulator: RunningAliyunEmulator
beforeAll(async () => {
  emulator = await startAliyunEmulator({
    withoutQueryCallStatus: true,
    pools: [{ poolKey: "FC100000000001", numbers: ["17000000000", "17000000001", "17000000002"] }, { poolKey: "FCTINY", numbers: ["17100000000"] }]
  })
})
afterAll(() => emulator.close())

/** Fallback-real decisions are audited (docs/audit.md): into a file of this run. */
const auditDir = mkdtempSync(join(tmpdir(), "precall-pipeline-"))
const audit = { auditHashSecret: "pipeline-audit-secret-0123456789", auditFile: join(auditDir, "exposures.jsonl") }
afterAll(() => rmSync(auditDir, { recursive: true, force: true }))
beforeEach(() => emulator.reset())

interface Run {
  readonly decide: (req: DecideRequestInput) => Promise<Decision>
  readonly report: (input: unknown) => Promise<unknown>
}

const withEngine = async <A>(overrides: SettingsInput, body: (run: Run) => Promise<A>) => {
  const settings = await Effect.runPromise(settingsFromObject({ aliyunEndpoint: emulator.url, ...audit, ...overrides }))
  const runtime = ManagedRuntime.make(PrecallLive(settings) as Layer.Layer<Engine | Outcomes>)
  try {
    return await body({ decide: (req) => runtime.runPromise(decide(req)), report: (input) => runtime.runPromise(reportOutcome(input)) })
  } finally {
    await runtime.dispose()
  }
}

const axb = (poolKey = "FC100000000001", ttlSeconds = 3600) => {
  const b = emulator.createBinding({ mode: "AXB", poolKey, phoneNoA: A, phoneNoB: B, ttlSeconds })
  return { b, req: { poolKey, subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: A } }
}

describe("Aliyun with QueryCallStatus withdrawn", () => {
  it("a working binding → use-x, the reason naming the binding query; QueryCallStatus asked once, then remembered", () =>
    withEngine({ statusTtlMs: 0 }, async ({ decide }) => {
      const { b, req } = axb()
      const first = await decide(req)
      expect(first).toMatchObject({ decision: "use-x", dial: b.phoneNoX, status: 1, provider: "aliyun", source: "provider" })
      expect(first.reason).toContain("binding query: in effect; X bound (SecretStatus 1)")
      await decide(req)
      expect(emulator.stats().actions["QueryCallStatus"]?.requests).toBe(1)
      expect(emulator.stats().actions["QuerySubscriptionDetail"]?.requests).toBe(2)
    }))

  it("an expired binding → rebind in the same mode, dialling the new X", () =>
    withEngine({}, async ({ decide }) => {
      const { b, req } = axb()
      emulator.advanceClock(7200)
      const d = await decide(req)
      expect(d).toMatchObject({ decision: "rebind", status: 4, previousSubsId: b.subsId })
      expect(d.reason).toContain("binding query: expired (Status 0)")
      expect(emulator.binding(d.subsId!)).toMatchObject({ mode: "AXB", phoneNoA: A, phoneNoB: B, phoneNoX: d.dial, status: "in-effect" })
    }))

  it("a locked X → a new binding on another X, and the old binding is unbound", () =>
    withEngine({}, async ({ decide }) => {
      const { b, req } = axb()
      emulator.setSecretStatus(b.phoneNoX, 2)
      const d = await decide(req)
      expect(d).toMatchObject({ decision: "rebind", status: 3, previousSubsId: b.subsId })
      expect(d.dial).not.toBe(b.phoneNoX)
      expect(d.reason).toContain("X locked (SecretStatus 2)")
      expect(() => emulator.binding(b.subsId)).toThrow()
      expect(await decide({ ...req, subsId: d.subsId!, phoneNoX: d.dial! })).toMatchObject({ decision: "use-x", dial: d.dial })
    }))

  it("a frozen X with no other X in the pool → refuse, or the real callee when allowed", async () => {
    const { b, req } = axb("FCTINY")
    emulator.setSecretStatus(b.phoneNoX, 3)
    await withEngine({}, async ({ decide }) => {
      const d = await decide(req)
      expect(d).toMatchObject({ decision: "refuse", status: 3, dial: null, providerCode: "isv.NO_AVAILABLE_NUMBER" })
      expect(d.reason).toContain("X frozen (SecretStatus 3)")
    })
    await withEngine({ allowRealFallback: true }, async ({ decide }) => {
      expect(await decide(req)).toMatchObject({ decision: "fallback-real", dial: B, status: 3 })
    })
  })

  it("number-class call failures on X over the threshold → rebind onto another X before dialling", () =>
    withEngine({ xFailureThreshold: 2 }, async ({ decide, report }) => {
      const { b, req } = axb()
      expect(await decide(req)).toMatchObject({ decision: "use-x", dial: b.phoneNoX })
      // a callee-class failure never marks the X
      await report({ provider: "aliyun", subsId: b.subsId, phoneNoX: b.phoneNoX, q850: 17, callSerialNo: "c1" })
      await report({ provider: "aliyun", subsId: b.subsId, phoneNoX: b.phoneNoX, q850: 1, callSerialNo: "c2" })
      expect(await decide(req)).toMatchObject({ decision: "use-x", dial: b.phoneNoX })
      await report({ provider: "aliyun", subsId: b.subsId, phoneNoX: b.phoneNoX, q850: 3, callSerialNo: "c3" })
      const d = await decide(req)
      expect(d).toMatchObject({ decision: "rebind", status: 3, previousSubsId: b.subsId })
      expect(d.dial).not.toBe(b.phoneNoX)
      expect(d.reason).toContain("2 number-class call failures on X in 10 min")
    }))

  it("PRECALL_ALIYUN_STATUS_SOURCE=query degrades instead: the action is not served", () =>
    withEngine({ aliyunStatusSource: "query" }, async ({ decide }) => {
      const { b, req } = axb()
      expect(await decide(req)).toMatchObject({ decision: "use-x", dial: b.phoneNoX, source: "degraded", providerCode: "InvalidAction.NotFound" })
    }))
})
