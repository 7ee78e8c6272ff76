/**
 * ChatApp (cams 2020-06-06) over the same signed RPC as Dyplsapi: QueryChatappPhoneNumbers, the
 * WhatsApp sender numbers of a CustSpaceId and their health (aliyun.md §8). Replies are decoded with
 * Schema; enum values Aliyun may add later read as UNKNOWN instead of failing the whole list.
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { HttpClient } from "effect/http"
import { LocalCodes, ProviderError } from "../../domain/errors.ts"
import { maskNumbersIn } from "../../domain/phone.ts"
import {
  type MessagingLimitTier,
  messagingLimitTiers,
  type QualityRating,
  qualityRatings,
  type Sender,
  type SenderStatus,
  senderStatuses
} from "../../alternative/senders.ts"
import { type AliyunCredentials, type AliyunReply, makeAliyunRpc } from "./client.ts"

export const CAMS_VERSION = "2020-06-06"
export const QUERY_CHATAPP_PHONE_NUMBERS = "QueryChatappPhoneNumbers"

const OptionalText = Schema.optionalKey(Schema.NullOr(Schema.String))

export const ChatappPhoneNumber = Schema.Struct({
  /** Digits with the country code and no `+`; anything else cannot be sent from. */
  PhoneNumber: Schema.String.check(Schema.isPattern(/^\d{6,20}$/, { expected: "a phone number: 6-20 digits with the country code" })),
  Status: OptionalText,
  QualityRating: OptionalText,
  MessagingLimitTier: OptionalText
})

export const QueryChatappPhoneNumbersReply = Schema.Struct({
  RequestId: Schema.optionalKey(Schema.String),
  /** Absent or null when the space has no number yet. */
  PhoneNumbers: Schema.optionalKey(Schema.NullOr(Schema.Array(ChatappPhoneNumber)))
})

const known = <A extends string>(values: ReadonlyArray<A>, raw: string | null | undefined): A | undefined =>
  values.find((v) => v === raw)

const senderOf = (n: typeof ChatappPhoneNumber.Type): Sender => ({
  phoneNumber: n.PhoneNumber,
  status: known<SenderStatus>(senderStatuses, n.Status) ?? "UNKNOWN",
  qualityRating: known<QualityRating>(qualityRatings, n.QualityRating) ?? "UNKNOWN",
  messagingLimitTier: known<MessagingLimitTier>(messagingLimitTiers, n.MessagingLimitTier)
})

export interface ChatappPhoneNumbers {
  readonly senders: ReadonlyArray<Sender>
  readonly requestId: string | undefined
}

/** The reply as sender numbers, or Reply.Malformed naming what did not match (numbers masked). */
export const decodePhoneNumbers = (reply: AliyunReply): Effect.Effect<ChatappPhoneNumbers, ProviderError> =>
  Schema.decodeUnknownEffect(QueryChatappPhoneNumbersReply)(reply).pipe(
    Effect.map((r) => ({ senders: (r.PhoneNumbers ?? []).map(senderOf), requestId: r.RequestId })),
    Effect.mapError((e) =>
      new ProviderError({
        provider: "aliyun", action: QUERY_CHATAPP_PHONE_NUMBERS, code: LocalCodes.malformed, errorClass: "transient",
        message: `reply does not match ${QUERY_CHATAPP_PHONE_NUMBERS}: ${maskNumbersIn(e.message.split("\n").slice(0, 2).join(" "))}`,
        ...(typeof reply["RequestId"] === "string" ? { requestId: reply["RequestId"] } : {})
      })
    )
  )

export interface CamsShape {
  /** The endpoint the calls go to (the circuit breaker's key). */
  readonly endpoint: string
  /** One QueryChatappPhoneNumbers call: one attempt, signed afresh; limits and timeouts are the caller's. */
  readonly queryChatappPhoneNumbers: (custSpaceId: string) => Effect.Effect<ChatappPhoneNumbers, ProviderError>
}

/**
 * The cams client. Tests replace it with `Layer.succeed(Cams, ...)`.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const { senders } = yield* (yield* Cams).queryChatappPhoneNumbers("29348393884")
 * ```
 */
export class Cams extends Context.Service<Cams, CamsShape>()("precall/Cams") {}

export interface CamsConfig {
  /** e.g. `https://cams.ap-southeast-1.aliyuncs.com` or the emulator's URL (it serves cams beside Dyplsapi). */
  readonly endpoint: string
  readonly signature: "v3" | "v1"
  readonly credentials: AliyunCredentials
}

export const makeCams = (config: CamsConfig): Effect.Effect<CamsShape, never, HttpClient.HttpClient> =>
  Effect.map(makeAliyunRpc({ ...config, version: CAMS_VERSION }), (rpc) => ({
    endpoint: config.endpoint,
    queryChatappPhoneNumbers: (custSpaceId) =>
      Effect.flatMap(rpc(QUERY_CHATAPP_PHONE_NUMBERS, { CustSpaceId: custSpaceId }), decodePhoneNumbers)
  }))

export const camsLayer = (config: CamsConfig): Layer.Layer<Cams, never, HttpClient.HttpClient> =>
  Layer.effect(Cams, makeCams(config))
