/** Sender choice (src/alternative/senders.ts): laws over generated sender lists, not examples. */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  alternativeOf,
  chooseSender,
  isUsable,
  messagingLimitTiers,
  qualityRatings,
  type Sender,
  senderStatuses
} from "../../src/alternative/senders.ts"

const sender: fc.Arbitrary<Sender> = fc.record({
  phoneNumber: fc.stringMatching(/^(86|62|55)\d{9,11}$/),
  status: fc.constantFrom(...senderStatuses),
  qualityRating: fc.constantFrom(...qualityRatings),
  messagingLimitTier: fc.option(fc.constantFrom(...messagingLimitTiers), { nil: undefined })
})
const senders = fc.array(sender, { maxLength: 12 })
const runs = { numRuns: 500, seed: 12 }

const qualityRank = (s: Sender) => qualityRatings.indexOf(s.qualityRating)
const tierRank = (s: Sender) => (s.messagingLimitTier === undefined ? messagingLimitTiers.length : messagingLimitTiers.indexOf(s.messagingLimitTier))

describe("chooseSender", () => {
  it("chooses a usable sender: CONNECTED, never RED, never FLAGGED or RATE_LIMITED", () =>
    fc.assert(fc.property(senders, (list) => {
      const chosen = chooseSender(list)
      if (chosen === undefined) return
      assert.strictEqual(chosen.status, "CONNECTED")
      assert.notStrictEqual(chosen.qualityRating, "RED")
    }), runs))

  it("chooses one exactly when some sender is usable", () =>
    fc.assert(fc.property(senders, (list) => {
      assert.strictEqual(chooseSender(list) !== undefined, list.some(isUsable))
    }), runs))

  it("no usable sender has a better quality, nor the same quality and a higher tier", () =>
    fc.assert(fc.property(senders, (list) => {
      const chosen = chooseSender(list)
      if (chosen === undefined) return
      for (const other of list.filter(isUsable)) {
        assert.isAtLeast(qualityRank(other), qualityRank(chosen))
        if (qualityRank(other) === qualityRank(chosen)) assert.isAtLeast(tierRank(other), tierRank(chosen))
      }
    }), runs))

  it("the order the provider lists senders in does not change the choice", () =>
    fc.assert(fc.property(senders.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }))), ([list, shuffled]) => {
      assert.deepStrictEqual(chooseSender(shuffled), chooseSender(list))
    }), runs))

  it("a sender that is a party's number (national or with the country code) is never chosen", () =>
    fc.assert(fc.property(senders, fc.stringMatching(/^1[3-9]\d{9}$/), (list, party) => {
      const withParty = [...list, { phoneNumber: `86${party}`, status: "CONNECTED" as const, qualityRating: "GREEN" as const, messagingLimitTier: "TIER_UNLIMITED" as const }]
      assert.notStrictEqual(chooseSender(withParty, [party])?.phoneNumber, `86${party}`)
    }), runs))
})

describe("alternativeOf", () => {
  it("is null when no list was had or none is usable; otherwise the chosen sender on WhatsApp, its reason free of numbers", () =>
    fc.assert(fc.property(senders, fc.option(fc.constantFrom("System.LimitControl", "Transport.Timeout"), { nil: undefined }), (list, stale) => {
      assert.isNull(alternativeOf(undefined, [], stale))
      const alternative = alternativeOf(list, [], stale)
      const chosen = chooseSender(list)
      if (chosen === undefined) return assert.isNull(alternative)
      assert.deepStrictEqual([alternative?.channel, alternative?.senderNumber, alternative?.qualityRating], ["whatsapp", chosen.phoneNumber, chosen.qualityRating])
      assert.notMatch(alternative!.reason, /\d{5,}/)
      assert.strictEqual(alternative!.reason.includes("latest refresh failed"), stale !== undefined)
    }), runs))

  it("quality comes before tier: GREEN TIER_50 wins over YELLOW TIER_UNLIMITED", () => {
    const a = alternativeOf([
      { phoneNumber: "6281200000001", status: "CONNECTED", qualityRating: "YELLOW", messagingLimitTier: "TIER_UNLIMITED" },
      { phoneNumber: "6281200000002", status: "CONNECTED", qualityRating: "GREEN", messagingLimitTier: "TIER_50" }
    ], [], undefined)
    assert.strictEqual(a?.senderNumber, "6281200000002")
  })
})
