/**
 * Dyplsapi (2017-05-25) actions over the signed RPC, with replies decoded by Schema. QueryCallStatus is
 * absent from Aliyun's current SDKs, so this module is its client.
 */
import { Effect, Schema } from "effect"
import { LocalCodes, ProviderError } from "../../domain/errors.ts"
import type { BindingMode } from "../../domain/binding.ts"
import type { AliyunReply, AliyunRpc } from "./client.ts"

export const DYPLS_VERSION = "2017-05-25"

const OptionalText = Schema.optionalKey(Schema.NullOr(Schema.String))
/**
 * Aliyun sends numbers as JSON numbers; older gateways sent some as strings. Either way an integer:
 * a word ("normal") or NaN is a malformed reply, not a status to guess from.
 */
const Int = Schema.Union([Schema.Int, Schema.FiniteFromString.check(Schema.isInt())])

export const QueryCallStatusReply = Schema.Struct({
  RequestId: Schema.optionalKey(Schema.String),
  SecretCallStatusDTO: Schema.Struct({ Status: Int, CalledNo: OptionalText, Extension: OptionalText })
})
export const BindReply = Schema.Struct({
  RequestId: Schema.optionalKey(Schema.String),
  SecretBindDTO: Schema.Struct({ SubsId: Schema.String, SecretNo: Schema.String, Extension: OptionalText })
})
export const SubscriptionDetailReply = Schema.Struct({
  RequestId: Schema.optionalKey(Schema.String),
  SecretBindDetailDTO: Schema.Struct({
    SubsId: Schema.String,
    PhoneNoA: OptionalText,
    PhoneNoB: OptionalText,
    PhoneNoX: Schema.String,
    Extension: OptionalText,
    /** 0 = expired, 1 = in effect. */
    Status: Int,
    ExpireDate: OptionalText,
    GmtCreate: OptionalText
  })
})
export const SecretNoDetailReply = Schema.Struct({
  RequestId: Schema.optionalKey(Schema.String),
  /** SecretStatus: 0 unbound, 1 bound, 2 locked, 3 frozen. */
  SecretNoInfoDTO: Schema.Struct({ SecretNo: OptionalText, SecretStatus: Int })
})
export const EnvelopeReply = Schema.Struct({ RequestId: Schema.optionalKey(Schema.String) })

/**
 * The reply's fields through `schema`, or the ProviderError saying they do not match, decoded
 * synchronously (replies are plain JSON, no effects to run) as the rpc reads the reply.
 */
const decodeReply = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, action: string) => {
  const decode = Schema.decodeUnknownResult(schema)
  return (reply: AliyunReply): S["Type"] | ProviderError => {
    const decoded = decode(reply)
    if (decoded._tag === "Success") return decoded.success
    return new ProviderError({
      provider: "aliyun", action, code: LocalCodes.malformed, errorClass: "transient",
      message: `reply does not match ${action}: ${decoded.failure.message.split("\n")[0]}`,
      ...(typeof reply["RequestId"] === "string" ? { requestId: reply["RequestId"] } : {})
    })
  }
}

/** `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8), the form Bind* Expiration takes. */
export const beijingTime = (epochMillis: number): string =>
  new Date(epochMillis + 8 * 3600_000).toISOString().slice(0, 19).replace("T", " ")

export const bindAction: Readonly<Record<BindingMode, string>> = { AXB: "BindAxb", AXN: "BindAxn", AX: "BindAxn", AXN_EXTENSION: "BindAxnExtension" }

export interface BindParams {
  readonly mode: BindingMode
  readonly poolKey: string
  readonly phoneNoA: string
  readonly phoneNoB?: string | undefined
  readonly phoneNoX?: string | undefined
  readonly extension?: string | undefined
  readonly expiresAt: number
  readonly expectCity?: string | undefined
  readonly outId?: string | undefined
}

export type UpdateOperation =
  | { readonly operateType: "updateNoA"; readonly phoneNoA: string }
  | { readonly operateType: "updateNoB"; readonly phoneNoB: string }
  | { readonly operateType: "updateExpire"; readonly expiresAt: number }
  | { readonly operateType: "updateOutId"; readonly outId: string }

const queryCallStatusReply = decodeReply(QueryCallStatusReply, "QueryCallStatus")
const subscriptionDetailReply = decodeReply(SubscriptionDetailReply, "QuerySubscriptionDetail")
const secretNoDetailReply = decodeReply(SecretNoDetailReply, "QuerySecretNoDetail")
const updateSubscriptionReply = decodeReply(EnvelopeReply, "UpdateSubscription")
const unbindSubscriptionReply = decodeReply(EnvelopeReply, "UnbindSubscription")
/** The decoder of each binding mode's Bind* reply, made once (a decoder names its action in its errors). */
const bindReply = Object.fromEntries(
  Object.entries(bindAction).map(([mode, action]) => [mode, decodeReply(BindReply, action)])
) as Readonly<Record<BindingMode, ReturnType<typeof decodeReply<typeof BindReply>>>>

/** Typed clients for the Dyplsapi actions precall uses. */
export const makeDypls = (rpc: AliyunRpc) => ({
  queryCallStatus: (p: { poolKey: string; subsId: string; callNo?: string | undefined }) =>
    rpc("QueryCallStatus", { PoolKey: p.poolKey, SubsId: p.subsId, CallNo: p.callNo }, queryCallStatusReply),
  bind: (p: BindParams) =>
    rpc(bindAction[p.mode], {
      PoolKey: p.poolKey, PhoneNoA: p.phoneNoA, PhoneNoB: p.phoneNoB, PhoneNoX: p.phoneNoX, Extension: p.extension,
      Expiration: beijingTime(p.expiresAt), ExpectCity: p.expectCity, OutId: p.outId
    }, bindReply[p.mode]),
  querySubscriptionDetail: (p: { poolKey: string; subsId: string; phoneNoX: string }) =>
    rpc("QuerySubscriptionDetail", { PoolKey: p.poolKey, SubsId: p.subsId, PhoneNoX: p.phoneNoX }, subscriptionDetailReply),
  querySecretNoDetail: (p: { poolKey: string; secretNo: string }) =>
    rpc("QuerySecretNoDetail", { PoolKey: p.poolKey, SecretNo: p.secretNo }, secretNoDetailReply),
  updateSubscription: (p: { poolKey: string; subsId: string; phoneNoX: string; operation: UpdateOperation }) => {
    const op = p.operation
    return rpc("UpdateSubscription", {
      PoolKey: p.poolKey, SubsId: p.subsId, PhoneNoX: p.phoneNoX, OperateType: op.operateType,
      PhoneNoA: op.operateType === "updateNoA" ? op.phoneNoA : undefined,
      PhoneNoB: op.operateType === "updateNoB" ? op.phoneNoB : undefined,
      Expiration: op.operateType === "updateExpire" ? beijingTime(op.expiresAt) : undefined,
      OutId: op.operateType === "updateOutId" ? op.outId : undefined
    }, updateSubscriptionReply)
  },
  unbindSubscription: (p: { poolKey: string; subsId: string; secretNo: string }) =>
    rpc("UnbindSubscription", { PoolKey: p.poolKey, SubsId: p.subsId, SecretNo: p.secretNo }, unbindSubscriptionReply)
})
export type Dypls = ReturnType<typeof makeDypls>
