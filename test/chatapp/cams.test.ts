/**
 * The cams client (src/providers/aliyun/cams.ts) over real HTTP against the emulator, which serves
 * QueryChatappPhoneNumbers beside Dyplsapi on one port: both signatures verified, sender states as
 * the control API set them, cams errors typed with their code, the 10 QPS limit, malformed replies.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { ProviderError } from "../../src/domain/errors.ts"
import { CHATAPP_QPS, type RunningAliyunEmulator, startAliyunEmulator } from "../../src/emulator/aliyun/index.ts"
import { type CamsShape, decodePhoneNumbers, makeCams } from "../../src/providers/aliyun/cams.ts"

const SPACE = "cs-test-1"
let emulator: RunningAliyunEmulator
beforeAll(async () => {
  emulator = await startAliyunEmulator({ seed: 3 })
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const run = <A, E>(signature: "v1" | "v3", f: (cams: CamsShape) => Effect.Effect<A, E>, secret = emulator.accessKeySecret) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const cams = yield* makeCams({
        endpoint: emulator.url, signature,
        credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: Redacted.make(secret) }
      })
      return yield* f(cams)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )

const failure = (signature: "v1" | "v3", custSpaceId: string, secret?: string): Promise<ProviderError> =>
  run(signature, (c) => Effect.flip(c.queryChatappPhoneNumbers(custSpaceId)), secret)

describe.each(["v3", "v1"] as const)("QueryChatappPhoneNumbers, signature %s", (signature) => {
  it("lists the space's sender numbers with the states the control API set", async () => {
    emulator.setChatappNumber(SPACE, "8613800001111")
    emulator.setChatappNumber(SPACE, "6281200002222", { status: "FLAGGED", qualityRating: "RED", messagingLimitTier: "TIER_250" })
    emulator.setChatappNumber("another-space", "6281200003333")
    const r = await run(signature, (c) => c.queryChatappPhoneNumbers(SPACE))
    expect(r.senders).toEqual([
      { phoneNumber: "8613800001111", status: "CONNECTED", qualityRating: "GREEN", messagingLimitTier: "TIER_1K" },
      { phoneNumber: "6281200002222", status: "FLAGGED", qualityRating: "RED", messagingLimitTier: "TIER_250" }
    ])
    expect(r.requestId).toMatch(/^[0-9A-F-]{36}$/)
    expect(emulator.stats().actions["QueryChatappPhoneNumbers"]).toEqual({ requests: 1, codes: { OK: 1 } })
  })

  it("a wrong secret fails the signature check: SignatureDoesNotMatch, configuration class", async () => {
    emulator.setChatappNumber(SPACE, "8613800001111")
    const e = await failure(signature, SPACE, "not-the-secret")
    expect([e.code, e.errorClass, e.httpStatus, e.action]).toEqual(["SignatureDoesNotMatch", "configuration", 400, "QueryChatappPhoneNumbers"])
  })

  it("an unknown space is Unknown.ResourceOwnerId (HTTP 400, configuration)", async () => {
    const e = await failure(signature, "nobody's-space")
    expect([e.code, e.errorClass, e.httpStatus]).toEqual(["Unknown.ResourceOwnerId", "configuration", 400])
  })
})

describe("cams errors, limits and malformed replies", () => {
  it("injected cams codes come back typed with their code and class", async () => {
    emulator.setChatappNumber(SPACE, "8613800001111")
    for (const [code, errorClass] of [
      ["Product.Unsubscript", "configuration"], ["Ram.PermissionDeny", "configuration"], ["System.LimitControl", "throttled"]
    ] as const) {
      emulator.setFault("QueryChatappPhoneNumbers", { errors: [{ code, rate: 1 }] })
      const e = await failure("v3", SPACE)
      expect([e.code, e.errorClass, e.httpStatus]).toEqual([code, errorClass, 400])
    }
  })

  it("above 10 calls in a second the emulator answers System.LimitControl with a retry-after", async () => {
    emulator.setChatappNumber(SPACE, "8613800001111")
    const results = await run("v3", (c) =>
      Effect.all(Array.from({ length: CHATAPP_QPS + 3 }, () => Effect.result(c.queryChatappPhoneNumbers(SPACE))), { concurrency: "unbounded" }))
    const refused = results.filter((r) => r._tag === "Failure").map((r) => (r as { failure: ProviderError }).failure)
    expect(results.length - refused.length).toBe(CHATAPP_QPS)
    expect(refused.map((e) => [e.code, e.errorClass])).toEqual(Array(3).fill(["System.LimitControl", "throttled"]))
    expect(refused.every((e) => e.retryAfterMs !== undefined && e.retryAfterMs > 0)).toBe(true)
  })

  it("a malformed reply (fault) is Reply.Malformed, not a crash", async () => {
    emulator.setChatappNumber(SPACE, "8613800001111")
    emulator.setFault("QueryChatappPhoneNumbers", { malformed: { rate: 1, kind: "truncated-json" } })
    const e = await failure("v3", SPACE)
    expect([e.code, e.errorClass]).toEqual(["Reply.Malformed", "transient"])
  })

  it("a reply whose entries do not decode is Reply.Malformed naming the field, numbers masked; new enum values read as UNKNOWN", async () => {
    const bad = await Effect.runPromise(Effect.flip(decodePhoneNumbers({
      Code: "OK", RequestId: "R1", PhoneNumbers: [{ PhoneNumber: "+86 138 0000 1111", Status: "CONNECTED" }]
    })))
    expect([bad.code, bad.requestId]).toEqual(["Reply.Malformed", "R1"])
    expect(bad.message).toContain("PhoneNumber")
    expect(bad.message).not.toMatch(/138 ?0000/)
    const notAList = await Effect.runPromise(Effect.flip(decodePhoneNumbers({ Code: "OK", PhoneNumbers: "none" })))
    expect(notAList.code).toBe("Reply.Malformed")
    const fresh = await Effect.runPromise(decodePhoneNumbers({
      Code: "OK", PhoneNumbers: [{ PhoneNumber: "8613800001111", Status: "SOMETHING_NEW", QualityRating: null, MessagingLimitTier: "TIER_2M" }]
    }))
    expect(fresh.senders).toEqual([{ phoneNumber: "8613800001111", status: "UNKNOWN", qualityRating: "UNKNOWN", messagingLimitTier: undefined }])
    const empty = await Effect.runPromise(decodePhoneNumbers({ Code: "OK" }))
    expect(empty.senders).toEqual([])
  })
})
