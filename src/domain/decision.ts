/**
 * The one answer precall gives before a masked call. A tagged union on `decision`; every variant has
 * the same keys so JSON consumers can read any of them the same way.
 */
import { Schema } from "effect"
import { CallStatus } from "./status.ts"

export const DecisionKind = Schema.Literals(["use-x", "use-temporary-x", "fallback-real", "rebind", "refuse"])
export type DecisionKind = typeof DecisionKind.Type

/** `provider`: from a provider answer; `degraded`: no usable answer in time; `cache`: a reused status-1 answer. */
export const DecisionSource = Schema.Literals(["provider", "degraded", "cache"])
export type DecisionSource = typeof DecisionSource.Type

/** The decision to take when the provider cannot answer in time (PRECALL_DEGRADED_DECISION). */
export const DegradedDecision = Schema.Literals(["use-x", "fallback-real", "refuse"])
export type DegradedDecision = typeof DegradedDecision.Type

const Meta = {
  /** The provider the dialled binding is on (`aliyun`, `huawei`); after a move to another provider, that one. */
  provider: Schema.String,
  poolKey: Schema.String,
  /** Provider status 1-4 behind the decision; null when none was had. */
  status: Schema.NullOr(CallStatus),
  source: DecisionSource,
  /** Why, in words, with the provider code when one was involved. */
  reason: Schema.String,
  /** Provider code of the failure that shaped the decision (e.g. `isv.FLOW_LIMIT`); null when none. */
  providerCode: Schema.NullOr(Schema.String),
  /** Provider calls made, retries included. */
  attempts: Schema.Number,
  elapsedMs: Schema.Number,
  /** Provider request ids, for support tickets. */
  requestIds: Schema.Array(Schema.String)
}

const variant = <K extends DecisionKind, D extends Schema.Top>(kind: K, dial: D) =>
  Schema.Struct({
    decision: Schema.Literal(kind),
    /** The number to dial. */
    dial,
    /** Extension to send after `dial` answers (AXN_EXTENSION); null otherwise. */
    extension: Schema.NullOr(Schema.String),
    /** The binding to use: the request's, or the new one after a rebind; null when no binding is dialled. */
    subsId: Schema.NullOr(Schema.String),
    ...Meta
  })

export const UseX = variant("use-x", Schema.String)
export const UseTemporaryX = variant("use-temporary-x", Schema.String)
/** The only variant that carries a real number. */
export const FallbackReal = variant("fallback-real", Schema.String)
export const Rebind = Schema.Struct({
  ...variant("rebind", Schema.String).fields,
  /** The binding this one replaces (expired, or on a broken X). */
  previousSubsId: Schema.String
})
/**
 * Another way to reach the callee when the call is refused: a WhatsApp message from one of the
 * customer's own ChatApp sender numbers (never a number of either party).
 */
export const Alternative = Schema.Struct({
  channel: Schema.Literal("whatsapp"),
  /** The business sender number to message from: digits with the country code, no `+`. */
  senderNumber: Schema.String,
  /** Its WhatsApp quality rating (RED senders are never offered). */
  qualityRating: Schema.Literals(["GREEN", "YELLOW", "UNKNOWN"]),
  /** Why this sender, in words; says so when the sender list is older than the last refresh attempt. */
  reason: Schema.String
}).annotate({
  description: "A WhatsApp sender (the customer's own ChatApp number, never a party's) to reach the callee from when the call is refused"
})
export type Alternative = typeof Alternative.Type

export const Refuse = Schema.Struct({
  ...variant("refuse", Schema.Null).fields,
  /**
   * Present when ChatApp is configured (PRECALL_CHATAPP_CUST_SPACE_ID): a WhatsApp sender to reach
   * the callee with instead, or null when no sender is usable. Only refusals carry it.
   */
  alternative: Schema.optionalKey(Schema.NullOr(Alternative).annotate({
    description: "Present when ChatApp is configured: a WhatsApp sender to reach the callee from instead, or null when none is usable"
  }))
})

export const Decision = Schema.Union([UseX, UseTemporaryX, FallbackReal, Rebind, Refuse])
export type Decision = typeof Decision.Type

/** A decision before the engine stamps how it was reached. */
export type DecisionCore = Decision extends infer D
  ? D extends Decision ? Omit<D, "attempts" | "elapsedMs" | "requestIds" | "poolKey"> : never
  : never
