/**
 * The Engine decorator (src/alternative/layer.ts) as laws, over a stub engine and a stub sender list:
 * a refusal gains exactly `alternativeOf(list)`, every other decision passes through unchanged, and
 * without a sender list nothing changes at all.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import * as fc from "fast-check"
import { ChatappSenders, type SenderList } from "../../src/alternative/ChatappSenders.ts"
import { alternativeEngineLayer, alternativeLayer } from "../../src/alternative/layer.ts"
import { alternativeOf, messagingLimitTiers, qualityRatings, type Sender, senderStatuses } from "../../src/alternative/senders.ts"
import type { Decision } from "../../src/domain/decision.ts"
import { DecideRequest } from "../../src/domain/request.ts"
import { Engine } from "../../src/engine/Engine.ts"
import { settingsFromObject } from "../../src/policy/settings.ts"

const sender: fc.Arbitrary<Sender> = fc.record({
  phoneNumber: fc.stringMatching(/^(86|62)\d{10}$/),
  status: fc.constantFrom(...senderStatuses),
  qualityRating: fc.constantFrom(...qualityRatings),
  messagingLimitTier: fc.option(fc.constantFrom(...messagingLimitTiers), { nil: undefined })
})
const list: fc.Arbitrary<SenderList> = fc.record({
  custSpaceId: fc.constant("cs-laws"),
  senders: fc.option(fc.array(sender, { maxLength: 6 }), { nil: undefined }),
  refreshedAt: fc.option(fc.nat(), { nil: undefined }),
  failure: fc.option(fc.record({ code: fc.constantFrom("System.LimitControl", "Transport.Timeout"), message: fc.constant("m"), at: fc.nat() }), { nil: undefined })
})
const base = { extension: null, provider: "aliyun", poolKey: "FC100000000001", status: null, source: "provider", reason: "r", providerCode: null, attempts: 1, elapsedMs: 3, requestIds: [] } as const
const decision: fc.Arbitrary<Decision> = fc.oneof(
  fc.constant<Decision>({ ...base, decision: "use-x", dial: "17000000000", subsId: "1" }),
  fc.constant<Decision>({ ...base, decision: "use-temporary-x", dial: "17000000001", subsId: "1" }),
  fc.constant<Decision>({ ...base, decision: "fallback-real", dial: "13900139000", subsId: null }),
  fc.constant<Decision>({ ...base, decision: "rebind", dial: "17000000002", subsId: "2", previousSubsId: "1" }),
  fc.constant<Decision>({ ...base, decision: "refuse", dial: null, subsId: null })
)
const request = Schema.decodeUnknownSync(DecideRequest)({ poolKey: "FC100000000001", subsId: "1", phoneNoX: "17000000000", callerNo: "13800138000" })

/** The decorated engine over one fixed decision and one fixed sender list (or none). */
const decorated = (d: Decision, senders: SenderList | undefined) =>
  Effect.scoped(Effect.gen(function*() {
    const inner = Layer.succeed(Engine, Engine.of({ providers: ["aliyun"], decide: () => Effect.succeed(d) }))
    const withList = senders === undefined ? Layer.empty : Layer.succeed(ChatappSenders, { list: Effect.succeed(senders), refresh: Effect.void })
    const engine = Context.get(yield* Layer.build(alternativeLayer.pipe(Layer.provide(inner), Layer.provide(withList))), Engine)
    return yield* engine.decide(request)
  }))

describe("the alternative decorator", () => {
  it("a refusal gains exactly the chosen alternative; any other decision passes through unchanged", () =>
    fc.assert(fc.asyncProperty(decision, list, async (d, l) => {
      const out = await Effect.runPromise(decorated(d, l))
      if (d.decision !== "refuse") return assert.deepStrictEqual(out, d)
      assert.deepStrictEqual(out, { ...d, alternative: alternativeOf(l.senders, ["13800138000"], l.failure?.code) })
    }), { numRuns: 200, seed: 7 }))

  it("without a sender list (ChatApp not configured) every decision passes through unchanged", () =>
    fc.assert(fc.asyncProperty(decision, async (d) => {
      assert.deepStrictEqual(await Effect.runPromise(decorated(d, undefined)), d)
    }), { numRuns: 50, seed: 7 }))

  it.effect("settings built by hand with ChatApp on a real endpoint and no key pair fail with InvalidSettings, not a crash", () =>
    Effect.gen(function*() {
      const settings = { ...(yield* settingsFromObject({})), chatappCustSpaceId: "cs-1" }
      const inner = Layer.succeed(Engine, Engine.of({ providers: [], decide: () => Effect.die("not called") }))
      const e = yield* Effect.flip(Effect.scoped(Layer.build(alternativeEngineLayer(settings).pipe(Layer.provide(inner)))))
      assert.strictEqual(e._tag, "InvalidSettings")
      assert.deepStrictEqual(e.issues.map((i) => i.setting), ["PRECALL_CHATAPP_CUST_SPACE_ID"])
    }))
})
