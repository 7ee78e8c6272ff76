/**
 * ChatApp (cams 2020-06-06) as the emulator serves it beside Dyplsapi: the WhatsApp sender numbers
 * of each CustSpaceId with their states, set through the control API, and QueryChatappPhoneNumbers
 * under cams' published 10 QPS per user (aliyun.md §8).
 *
 * Pure state, like state.ts: operations answer an Outcome with the value or a cams code.
 */
import type { Params, ReplyFields } from "./actions.ts"
import type { Outcome } from "./state.ts"

export const CAMS_API_VERSION = "2020-06-06"
export const CAMS_HOST_ID = "cams.ap-southeast-1.aliyuncs.com"
export const CAMS_PRODUCT = "cams"

/** cams' published limit for QueryChatappPhoneNumbers; above it the emulator answers System.LimitControl. */
export const CHATAPP_QPS = 10

export const CHATAPP_STATUSES = [
  "CONNECTED", "PENDING", "UNVERIFIED", "FLAGGED", "RESTRICTED", "RATE_LIMITED", "BANNED", "DISCONNECTED", "MIGRATED", "DELETED", "UNKNOWN"
] as const
export const CHATAPP_QUALITY_RATINGS = ["GREEN", "YELLOW", "RED", "UNKNOWN"] as const
export const CHATAPP_TIERS = ["TIER_50", "TIER_250", "TIER_1K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"] as const

export interface ChatappNumber {
  readonly phoneNumber: string
  readonly status: typeof CHATAPP_STATUSES[number]
  readonly qualityRating: typeof CHATAPP_QUALITY_RATINGS[number]
  readonly messagingLimitTier: typeof CHATAPP_TIERS[number]
  readonly verifiedName: string
}

/** What a control call may set; unset fields keep their value (or the default for a new number). */
export type ChatappNumberPatch = Partial<Omit<ChatappNumber, "phoneNumber">>

const NEW_NUMBER: Omit<ChatappNumber, "phoneNumber"> = { status: "CONNECTED", qualityRating: "GREEN", messagingLimitTier: "TIER_1K", verifiedName: "precall demo" }

const ok = <A>(value: A): Outcome<A> => ({ ok: true, value })
const fail = (code: string, message: string): Outcome<never> => ({ ok: false, code, message })

/** The space a query without CustSpaceId lists: the account's own numbers. */
export const OWN_SPACE = ""

export class ChatappState {
  private readonly spaces = new Map<string, Map<string, ChatappNumber>>()

  /** Adds a number to a space (creating the space) or changes its states. */
  setNumber(custSpaceId: string, phoneNumber: string, patch: ChatappNumberPatch): Outcome<ChatappNumber> {
    if (!/^\d{6,20}$/.test(phoneNumber)) return fail("InvalidParameter", "phoneNumber must be 6-20 digits with the country code, no +")
    let space = this.spaces.get(custSpaceId)
    if (space === undefined) this.spaces.set(custSpaceId, (space = new Map()))
    const number = { ...NEW_NUMBER, ...space.get(phoneNumber), ...patch, phoneNumber }
    space.set(phoneNumber, number)
    return ok(number)
  }

  removeNumber(custSpaceId: string, phoneNumber: string): Outcome<undefined> {
    return this.spaces.get(custSpaceId)?.delete(phoneNumber) === true
      ? ok(undefined)
      : fail("InvalidParameter", `no number ${phoneNumber} in space ${JSON.stringify(custSpaceId)}`)
  }

  /** The space's numbers, or undefined for a space never created. */
  numbers(custSpaceId: string): ReadonlyArray<ChatappNumber> | undefined {
    const space = this.spaces.get(custSpaceId)
    return space === undefined ? undefined : [...space.values()]
  }

  clear(): void {
    this.spaces.clear()
  }
}

/** A published per-user limit and the code the service answers above it. */
export interface Quota {
  readonly qps: number
  readonly code: string
}

/** One cams action: the parameters the gateway insists on, its quota, and the action on the ChatApp state. */
export interface CamsActionSpec {
  readonly required: ReadonlyArray<string>
  readonly quota: Quota
  readonly run: (state: ChatappState, params: Params) => Outcome<ReplyFields>
}

export const CAMS_ACTIONS: Readonly<Record<string, CamsActionSpec>> = {
  QueryChatappPhoneNumbers: {
    required: [],
    quota: { qps: CHATAPP_QPS, code: "System.LimitControl" },
    run: (state, p) => {
      const numbers = state.numbers(p["CustSpaceId"] ?? OWN_SPACE)
      // an unknown space reads as one the account does not own (unconfirmed: aliyun.md §10)
      if (numbers === undefined) return fail("Unknown.ResourceOwnerId", "The resource does not belong to the current user.")
      // the Status filter is not emulated: its values are not documented (the example says VERIFIED)
      return ok({
        PhoneNumbers: numbers.map((n) => ({
          PhoneNumber: n.phoneNumber,
          VerifiedName: n.verifiedName,
          Status: n.status,
          QualityRating: n.qualityRating,
          CodeVerificationStatus: "VERIFIED",
          MessagingLimitTier: n.messagingLimitTier,
          NameStatus: "Approval",
          NewNameStatus: "Approval",
          UpQueue: "Alicom-Queue-emulator-ChatAppInbound",
          StatusQueue: "Alicom-Queue-emulator-ChatAppStatus"
        })),
        AccessDeniedDetail: "None"
      })
    }
  }
}
