/**
 * Decisions with the alternative channel, end to end: PrecallLive against the emulator serving both
 * Dyplsapi and cams, on the live clock. A refusal carries the best WhatsApp sender (also when policy
 * turned a fallback-real into the refusal, and when the decision degraded to refuse), null when none
 * is usable; no other decision carries one; and no real number of either party ever appears in it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import { Decision } from "../../src/domain/decision.ts"
import { aliyunEmulatorScoped, type RunningAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { type SettingsInput, settingsFromObject } from "../../src/policy/settings.ts"
import { decide, PrecallLive, PrecallWith, providerLayer } from "../../src/precall.ts"
import { Engine } from "../../src/engine/Engine.ts"
import { AuditStoreError, ExposureStore } from "../../src/audit/ExposureStore.ts"
import { memoryStoreLayer } from "../../src/audit/memoryStore.ts"
import { OpenApi } from "effect/http-api"
import { PrecallApi } from "../../src/service/api.ts"

const SPACE = "cs-decisions"
const A = "13800138001"
const B = "13900139001"

/** An engine over the emulator with ChatApp on `SPACE`; the first sender list is loaded when this returns. */
const engineOn = (emulator: RunningAliyunEmulator, input: SettingsInput = {}, exposures: Layer.Layer<ExposureStore> = memoryStoreLayer()) =>
  Effect.gen(function*() {
    const settings = yield* settingsFromObject({
      aliyunEndpoint: emulator.url, chatappEndpoint: emulator.url, chatappCustSpaceId: SPACE, auditHashSecret: "audit-hash-secret-for-tests", ...input
    })
    return Context.get(yield* Layer.build(PrecallWith(settings, providerLayer(settings), exposures)), Engine)
  })

/** An exposure audit that cannot take a record: every fallback-real becomes a refusal. */
const brokenAudit = Layer.succeed(ExposureStore, {
  kind: "file",
  where: "nowhere",
  append: () => Effect.fail(new AuditStoreError({ store: "file", reason: "Unavailable", message: "disk gone" })),
  query: () => Effect.fail(new AuditStoreError({ store: "file", reason: "Unavailable", message: "disk gone" }))
})

const binding = (emulator: RunningAliyunEmulator, status: 3 | null, n = 1) => {
  const b = emulator.createBinding({ mode: "AXB", phoneNoA: `1380013800${n}`, phoneNoB: `1390013900${n}`, ttlSeconds: 3600 })
  if (status !== null) emulator.setCallStatus(b.subsId, { status })
  return { poolKey: b.poolKey, subsId: b.subsId, phoneNoX: b.phoneNoX, callerNo: `1380013800${n}` }
}

const decideWith = (engine: Engine["Service"], input: unknown) => decide(input).pipe(Effect.provideService(Engine, engine))

/** Every real number a test uses, with and without the country code. */
const realNumbers = [A, B].flatMap((n) => [n, `86${n}`])

describe("the alternative on decisions", () => {
  it.live("refuse after policy forbade the real-number fallback: the best usable sender", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* aliyunEmulatorScoped()
      emulator.setChatappNumber(SPACE, "6281200000001", { qualityRating: "YELLOW", messagingLimitTier: "TIER_UNLIMITED" })
      emulator.setChatappNumber(SPACE, "6281200000002", { qualityRating: "GREEN", messagingLimitTier: "TIER_250" })
      emulator.setChatappNumber(SPACE, "6281200000003", { qualityRating: "GREEN", messagingLimitTier: "TIER_10K" })
      emulator.setChatappNumber(SPACE, "6281200000004", { status: "RATE_LIMITED", qualityRating: "GREEN", messagingLimitTier: "TIER_UNLIMITED" })
      const engine = yield* engineOn(emulator)
      const d = yield* decideWith(engine, { ...binding(emulator, 3), binding: { phoneNoA: A, phoneNoB: B } })
      assert.strictEqual(d.decision, "refuse")
      assert.include(d.reason, "not allowed by policy")
      assert.deepStrictEqual(d.decision === "refuse" ? d.alternative : "not a refusal", {
        channel: "whatsapp", senderNumber: "6281200000003", qualityRating: "GREEN",
        reason: "call refused; reach the callee on WhatsApp instead: the best of 3 usable ChatApp senders (CONNECTED, quality GREEN, TIER_10K)"
      })
      // the decision schema (and so the HTTP API and OpenAPI) carries it
      assert.deepStrictEqual(Schema.decodeUnknownSync(Decision)(Schema.encodeSync(Decision)(d)), d)
      const text = JSON.stringify(d)
      for (const n of realNumbers) assert.notInclude(text, n)
    })))

  it.live("a degraded refuse carries it too; fallback-real and use-x never do", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* aliyunEmulatorScoped()
      emulator.setChatappNumber(SPACE, "6281200000002", { qualityRating: "GREEN" })
      const engine = yield* engineOn(emulator, { allowRealFallback: true, degradedDecision: "refuse", maxAttempts: 1 })
      const faulty = binding(emulator, null, 2)
      emulator.setFault(`QueryCallStatus@${faulty.subsId}`, { errors: [{ code: "isp.SYSTEM_ERROR", rate: 1 }] })
      const degraded = yield* decideWith(engine, faulty)
      assert.deepStrictEqual([degraded.decision, degraded.source], ["refuse", "degraded"])
      assert.strictEqual(degraded.decision === "refuse" ? degraded.alternative?.senderNumber : undefined, "6281200000002")

      const real = yield* decideWith(engine, { ...binding(emulator, 3, 3), realCallee: B })
      assert.deepStrictEqual([real.decision, "alternative" in real], ["fallback-real", false])
      const useX = yield* decideWith(engine, binding(emulator, null, 4))
      assert.deepStrictEqual([useX.decision, "alternative" in useX], ["use-x", false])
    })))

  it.live("a fallback-real the exposure audit could not record becomes a refusal that carries the sender", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* aliyunEmulatorScoped()
      emulator.setChatappNumber(SPACE, "6281200000003", { qualityRating: "GREEN" })
      const engine = yield* engineOn(emulator, { allowRealFallback: true }, brokenAudit)
      const d = yield* decideWith(engine, { ...binding(emulator, 3, 6), realCallee: B })
      assert.strictEqual(d.decision, "refuse")
      assert.strictEqual(d.decision === "refuse" ? d.alternative?.senderNumber : undefined, "6281200000003")
    })))

  it.live("null when no sender is usable, or when the only good one is a party's own number", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* aliyunEmulatorScoped()
      emulator.setChatappNumber(SPACE, "6281200000005", { qualityRating: "RED" })
      emulator.setChatappNumber(SPACE, "6281200000006", { status: "FLAGGED" })
      emulator.setChatappNumber(SPACE, "6281200000007", { status: "PENDING" })
      // a misconfigured space listing the caller's own number: never offered
      emulator.setChatappNumber(SPACE, `86${A}`, { qualityRating: "GREEN", messagingLimitTier: "TIER_UNLIMITED" })
      const engine = yield* engineOn(emulator)
      const d = yield* decideWith(engine, { ...binding(emulator, 3, 5), callerNo: A, binding: { phoneNoA: A, phoneNoB: B } })
      assert.strictEqual(d.decision, "refuse")
      assert.isTrue("alternative" in d)
      assert.isNull(d.decision === "refuse" ? d.alternative : "not a refusal")
      for (const n of realNumbers) assert.notInclude(JSON.stringify(d), n)
    })))

  it.live("the decorated composition builds the engine, its provider and its Redis once", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* aliyunEmulatorScoped()
      emulator.setChatappNumber(SPACE, "6281200000002")
      const settings = yield* settingsFromObject({ aliyunEndpoint: emulator.url, chatappEndpoint: emulator.url, chatappCustSpaceId: SPACE })
      let builds = 0
      const counted = Layer.effectContext(Effect.flatMap(Effect.sync(() => builds++), () => Layer.build(providerLayer(settings))))
      const engine = Context.get(yield* Layer.build(PrecallWith(settings, counted)), Engine)
      const d = yield* decideWith(engine, binding(emulator, 3, 7))
      assert.strictEqual(d.decision === "refuse" ? d.alternative?.senderNumber : undefined, "6281200000002")
      assert.strictEqual(builds, 1)
    })))

  it.live("without ChatApp configured a refusal has no alternative key at all", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* aliyunEmulatorScoped()
      const settings = yield* settingsFromObject({ aliyunEndpoint: emulator.url })
      const engine = Context.get(yield* Layer.build(PrecallLive(settings)), Engine)
      const d = yield* decideWith(engine, binding(emulator, 3, 6))
      assert.deepStrictEqual([d.decision, "alternative" in d], ["refuse", false])
      assert.strictEqual(emulator.stats().actions["QueryChatappPhoneNumbers"], undefined)
    })))
})

it("OpenAPI documents the alternative on refusals: channel, sender, quality (never RED), reason", () => {
  const text = JSON.stringify(OpenApi.fromApi(PrecallApi))
  const at = text.indexOf('"alternative"')
  assert.isAbove(at, 0)
  const alternative = text.slice(at, at + 600)
  assert.include(alternative, '"enum":["whatsapp"]')
  assert.include(alternative, '"enum":["GREEN","YELLOW","UNKNOWN"]')
  assert.include(alternative, "never a party's")
})
