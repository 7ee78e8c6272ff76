/**
 * One exposure: the record written before a `fallback-real` decision leaves precall. It holds the
 * real number only masked (last 4 digits) plus a keyed hash of it, so an officer can find every
 * exposure of one number while the audit itself never holds that number.
 *
 * The hash key is derived for this one purpose from PRECALL_AUDIT_HASH_SECRET the way the shared
 * Redis keys are (HMAC(secret, "precall/audit-number-hash")): the secret itself is never used as a
 * key, and without that secret a stolen audit cannot be matched against a list of numbers.
 */
import { Redacted, Schema } from "effect"
import { createHmac } from "node:crypto"
import { DegradedDecision, DecisionSource } from "../domain/decision.ts"
import { CallStatus } from "../domain/status.ts"
import { isPhoneNumber, maskPhone, normalizePhone } from "../domain/phone.ts"
import { deriveKey } from "../redis/sealed.ts"

/** A masked number: `****` and at most its last 4 digits. */
export const MaskedNumber = Schema.String.check(Schema.isPattern(/^\*{4}\d{0,4}$/))
/** HMAC-SHA256 of the national-form number, lowercase hex. */
export const NumberHash = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))

/** The policy that allowed the real number out. */
export const ExposurePolicy = Schema.Struct({
  allowRealFallback: Schema.Boolean,
  degradedDecision: DegradedDecision
})

/** What the decision rested on: the same fields the decision carries, the reason with numbers masked. */
export const ExposureEvidence = Schema.Struct({
  source: DecisionSource,
  status: Schema.NullOr(CallStatus),
  providerCode: Schema.NullOr(Schema.String),
  reason: Schema.String,
  /** The provider's request ids of the calls behind it, for a support ticket. */
  providerRequestIds: Schema.Array(Schema.String)
})

/** An exposure as precall writes it; the store gives it its `id`. */
export const ExposureEntry = Schema.Struct({
  /** When the decision was made (ISO 8601, UTC). */
  at: Schema.String.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/)),
  /** The request id the service answered with (x-request-id); null outside the service. */
  requestId: Schema.NullOr(Schema.String),
  /** The id of the API key that asked (docs/audit.md), never the key; null outside the service or in the open demo. */
  apiKeyId: Schema.NullOr(Schema.String),
  provider: Schema.String,
  /** The binding the call was for. */
  poolKey: Schema.String,
  subsId: Schema.String,
  /** The binding's X: a platform number, not a party's. */
  phoneNoX: Schema.String,
  realNumberMasked: MaskedNumber,
  realNumberHash: NumberHash,
  policy: ExposurePolicy,
  evidence: ExposureEvidence
})
export type ExposureEntry = typeof ExposureEntry.Type

/** An exposure as read back: with the store's id (a PostgreSQL identity, or the line of the file). */
export const ExposureRecord = Schema.Struct({ id: Schema.Int, ...ExposureEntry.fields })
export type ExposureRecord = typeof ExposureRecord.Type

/** Keyed hash of one number; `hash(n)` is the same for every spelling of the same number (+86, spaces). */
export interface NumberHasher {
  readonly hash: (number: string) => string
}

export const makeNumberHasher = (secret: Redacted.Redacted<string> | string | Buffer): NumberHasher => {
  const key = deriveKey(Redacted.isRedacted(secret) ? Redacted.value(secret) : secret, "precall/audit-number-hash")
  return { hash: (number) => createHmac("sha256", key).update(normalizePhone(number)).digest("hex") }
}

/** The masked and hashed forms of a real number; the number itself goes no further. */
export const concealed = (hasher: NumberHasher, number: string) => ({
  realNumberMasked: maskPhone(number),
  realNumberHash: hasher.hash(number)
})

/** A number an officer searches for, in any spelling the decide API accepts; undefined when it is none. */
export const searchableNumber = (raw: string): string | undefined => {
  const n = normalizePhone(raw)
  return isPhoneNumber(n) ? n : undefined
}
