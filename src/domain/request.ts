/** A pre-call decision request: which binding is about to be dialled, and what the caller knows. */
import { Schema } from "effect"
import { BindingMode, Extension, PoolKey, SubsId } from "./binding.ts"
import { PhoneNumber } from "./phone.ts"

/** Parties of the binding as the dialing app knows them; used to rebind and to find the real callee. */
export const KnownBinding = Schema.Struct({
  phoneNoA: Schema.optionalKey(PhoneNumber),
  phoneNoB: Schema.optionalKey(PhoneNumber),
  mode: Schema.optionalKey(BindingMode)
})
export type KnownBinding = typeof KnownBinding.Type

/** A provider's short name as requests write it: `aliyun`, `huawei`. */
export const ProviderName = Schema.String.check(
  Schema.makeFilter((s: string) => /^[a-z][a-z0-9-]{0,31}$/.test(s), { expected: "a provider name such as aliyun or huawei" })
)

export const DecideRequest = Schema.Struct({
  /** The provider the binding lives on; absent: the default provider (aliyun when it is configured). */
  provider: Schema.optionalKey(ProviderName),
  poolKey: PoolKey,
  subsId: SubsId,
  /** The X number of the binding, as the dialing app would dial it. */
  phoneNoX: PhoneNumber,
  /** Extension of an AXN_EXTENSION binding, if the app has it. */
  extension: Schema.optionalKey(Extension),
  /** The calling party; lets the provider and the real-callee lookup know who dials. */
  callerNo: Schema.optionalKey(PhoneNumber),
  /** The real callee, when the app knows it; otherwise looked up only when a fallback needs it. */
  realCallee: Schema.optionalKey(PhoneNumber),
  binding: Schema.optionalKey(KnownBinding)
})
export type DecideRequest = typeof DecideRequest.Type
/** The request as it arrives on the wire (plain strings), before decoding. */
export type DecideRequestInput = typeof DecideRequest.Encoded
