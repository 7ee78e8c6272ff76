/**
 * ChatApp (cams) WhatsApp sender numbers and which one to offer: pure, no I/O. A refused call can
 * still reach the callee by WhatsApp, from one of the customer's own business numbers (never a
 * number of either party).
 */
import type { Alternative } from "../domain/decision.ts"

/** `Status` of a sender number (aliyun.md §8); anything else Aliyun sends reads as UNKNOWN. */
export const senderStatuses = [
  "CONNECTED", "PENDING", "UNVERIFIED", "FLAGGED", "RESTRICTED", "RATE_LIMITED", "BANNED", "DISCONNECTED", "MIGRATED", "DELETED", "UNKNOWN"
] as const
export type SenderStatus = typeof senderStatuses[number]

/** `QualityRating`, best first; a missing or new value reads as UNKNOWN. */
export const qualityRatings = ["GREEN", "YELLOW", "UNKNOWN", "RED"] as const
export type QualityRating = typeof qualityRatings[number]

/** `MessagingLimitTier` (distinct recipients per day), largest first; a missing or new value reads as undefined. */
export const messagingLimitTiers = ["TIER_UNLIMITED", "TIER_100K", "TIER_10K", "TIER_1K", "TIER_250", "TIER_50"] as const
export type MessagingLimitTier = typeof messagingLimitTiers[number]

/** One sender number of a CustSpaceId, in the fields the choice reads. */
export interface Sender {
  /** Digits with the country code, no `+` (as cams writes it). */
  readonly phoneNumber: string
  readonly status: SenderStatus
  readonly qualityRating: QualityRating
  readonly messagingLimitTier: MessagingLimitTier | undefined
}

/**
 * Usable: CONNECTED and not rated RED. FLAGGED and RATE_LIMITED are values of the same `Status`
 * field, so CONNECTED already rules them out.
 */
export const isUsable = (s: Sender): boolean => s.status === "CONNECTED" && s.qualityRating !== "RED"

const qualityRank = (q: QualityRating): number => qualityRatings.indexOf(q)
const tierRank = (t: MessagingLimitTier | undefined): number => (t === undefined ? messagingLimitTiers.length : messagingLimitTiers.indexOf(t))

/** Better first: by quality, then by messaging limit tier, then by number (so the choice is stable). */
export const bySuitability = (a: Sender, b: Sender): number =>
  qualityRank(a.qualityRating) - qualityRank(b.qualityRating) ||
  tierRank(a.messagingLimitTier) - tierRank(b.messagingLimitTier) ||
  (a.phoneNumber < b.phoneNumber ? -1 : a.phoneNumber > b.phoneNumber ? 1 : 0)

/** The last 8 digits, which tell a national number and its international form apart from other numbers. */
const tail = (n: string): string => n.replace(/\D/g, "").slice(-8)

/**
 * The sender to offer: the best usable one that is not a real number of the call's parties (a
 * misconfigured space could list one; the alternative must never carry it). Undefined when none.
 */
export const chooseSender = (senders: ReadonlyArray<Sender>, partyNumbers: ReadonlyArray<string> = []): Sender | undefined => {
  const parties = new Set(partyNumbers.map(tail).filter((t) => t.length === 8))
  return senders.filter((s) => isUsable(s) && !parties.has(tail(s.phoneNumber))).sort(bySuitability)[0]
}

/**
 * The alternative a refused call carries: the chosen sender, or null when none is usable (or no list
 * has been had yet). `staleBecause` is the code of the refresh that failed since the list was had.
 */
export const alternativeOf = (
  senders: ReadonlyArray<Sender> | undefined,
  partyNumbers: ReadonlyArray<string>,
  staleBecause: string | undefined
): Alternative | null => {
  if (senders === undefined) return null
  const sender = chooseSender(senders, partyNumbers)
  // isUsable has ruled RED out already; the check tells the type
  if (sender === undefined || sender.qualityRating === "RED") return null
  const count = senders.filter(isUsable).length
  const stale = staleBecause === undefined ? "" : `; from the last good sender list (the latest refresh failed: ${staleBecause})`
  return {
    channel: "whatsapp",
    senderNumber: sender.phoneNumber,
    qualityRating: sender.qualityRating,
    reason: `call refused; reach the callee on WhatsApp instead: the best of ${count} usable ChatApp sender${count === 1 ? "" : "s"} ` +
      `(CONNECTED, quality ${sender.qualityRating}, ${sender.messagingLimitTier ?? "tier unknown"})${stale}`
  }
}
