/**
 * How decided calls ended, reported back (`POST /v1/outcomes`, `reportOutcome` in both library APIs)
 * so that X health learns from them. An outcome is classified once (a provider's hang-up code through
 * that provider's table, else the neutral Q.850 table) and added to its X's window in the evidence
 * store. With only a call serial number, the call-state source (Huawei CEC queryCallState) is asked,
 * polling on a bounded schedule until the call has ended; the report is answered at once meanwhile.
 */
import { Context, Data, Duration, Effect, Layer, Schedule, Schema } from "effect"
import { SubsId } from "../domain/binding.ts"
import { PhoneNumber } from "../domain/phone.ts"
import { schemaIssuesOf } from "./issues.ts"
import { classifyQ850, marksX, OutcomeClass } from "./classes.ts"
import { EvidenceStore } from "./EvidenceStore.ts"
import { classifyHuaweiStateCode } from "../providers/huawei/stateCodes.ts"

export const OutcomeProvider = Schema.Literals(["aliyun", "huawei"])

export const OutcomeReport = Schema.Struct({
  provider: OutcomeProvider,
  /** The binding the call was placed on. */
  subsId: SubsId,
  /** The X the caller dialled. */
  phoneNoX: PhoneNumber,
  /** ITU-T Q.850 cause the caller's side saw, 0-127. */
  q850: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 127 }))),
  /** The provider's own hang-up code (Huawei `stateCode`, e.g. 8055). */
  stateCode: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))),
  /** The call's serial number at the call-state source (Huawei CEC `callSerialNo`, at most 50 characters). */
  callSerialNo: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[\x21-\x7e]{1,50}$/)))
})
export type OutcomeReport = typeof OutcomeReport.Type
export type OutcomeReportInput = typeof OutcomeReport.Encoded

/** An outcome report that does not decode or says nothing usable; `issues` lists every problem with its path. */
export class InvalidOutcome extends Schema.TaggedError<InvalidOutcome>()("InvalidOutcome", {
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))
}) {
  override get message(): string {
    return `invalid outcome report: ${this.issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ")}`
  }
}

export const OutcomeReceipt = Schema.Struct({
  /** The class the outcome was recorded as; null while it waits for the call-state source. */
  outcomeClass: Schema.NullOr(OutcomeClass),
  /** True when the outcome counts against the X (number class). */
  marksX: Schema.Boolean,
  /** True when precall is asking the call-state source how the call ended. */
  pending: Schema.Boolean
})
export type OutcomeReceipt = typeof OutcomeReceipt.Type

/** A provider's table for its own hang-up codes: the class of every code (unknown codes are `other`). */
export type StateCodeTable = (stateCode: number) => OutcomeClass

/** Each provider's hang-up-code table, by provider name; a provider without one accepts Q.850 only. */
export const StateCodeTables = Context.Reference<Readonly<Record<string, StateCodeTable>>>("precall/StateCodeTables", {
  defaultValue: () => ({ huawei: classifyHuaweiStateCode })
})

/** The call-state source could not answer this time. */
export class CallStateUnavailable extends Data.TaggedError("CallStateUnavailable")<{ readonly reason: string }> {}

/** What the call-state source says of one call. */
export interface CallState {
  readonly ended: boolean
  /** Its class once ended (the source's reasonCode / Q.850 table applied); undefined while running. */
  readonly outcomeClass: OutcomeClass | undefined
  /** The code it was classified from, e.g. `reasonCode:5`. */
  readonly code: string
}

/** A call-state source (Huawei CEC queryCallState). */
export interface CallStateSourceShape {
  readonly query: (callSerialNo: string) => Effect.Effect<CallState, CallStateUnavailable>
}

/** The configured call-state source, if any (set when CEC is configured). */
export const CallStateSource = Context.Reference<CallStateSourceShape | undefined>("precall/CallStateSource", { defaultValue: () => undefined })

/** How a serial number is followed: every 2 s, for at most a minute. */
export const callStatePolling = { every: Duration.seconds(2), times: 30 } as const

export interface OutcomesShape {
  /** Validates, classifies and records one outcome; polls the call-state source in the background when needed. */
  readonly report: (input: unknown) => Effect.Effect<OutcomeReceipt, InvalidOutcome>
}

export class Outcomes extends Context.Service<Outcomes, OutcomesShape>()("precall/Outcomes") {}

const issue = (path: string, message: string) => new InvalidOutcome({ issues: [{ path, message }] })

export const decodeOutcome = (input: unknown): Effect.Effect<OutcomeReport, InvalidOutcome> =>
  Schema.decodeUnknownEffect(OutcomeReport)(input, { errors: "all", onExcessProperty: "error" }).pipe(
    Effect.mapError((e) => new InvalidOutcome({ issues: schemaIssuesOf(e.issue) }))
  )

/** Outcomes over the evidence store; background polls live as long as the layer. */
export const outcomesLayer: Layer.Layer<Outcomes, never, EvidenceStore> = Layer.effect(
  Outcomes,
  Effect.gen(function*() {
    const store = yield* EvidenceStore
    const scope = yield* Effect.scope
    const tables = yield* StateCodeTables
    const source = yield* CallStateSource

    const record = (report: OutcomeReport, outcomeClass: OutcomeClass, code: string, callId: string | undefined) =>
      store.recordOutcome({ provider: report.provider, phoneNoX: report.phoneNoX, subsId: report.subsId, outcomeClass, code, callId })

    /** Asks until the call has ended; gives up (records nothing) when the schedule runs out. */
    const follow = (report: OutcomeReport, serial: string, cec: CallStateSourceShape) =>
      cec.query(serial).pipe(
        Effect.flatMap((state) =>
          state.ended && state.outcomeClass !== undefined
            ? Effect.succeed({ outcomeClass: state.outcomeClass, code: state.code })
            : Effect.fail(new CallStateUnavailable({ reason: "call not ended yet" }))
        ),
        Effect.retry(Schedule.spaced(callStatePolling.every).pipe(Schedule.upTo({ times: callStatePolling.times - 1 }))),
        Effect.flatMap((ended) => record(report, ended.outcomeClass, ended.code, `serial:${serial}`)),
        Effect.catch((e) => Effect.logDebug({ msg: "call state not learned", provider: report.provider, reason: e.reason }))
      )

    return Outcomes.of({
      report: (input) =>
        Effect.gen(function*() {
          const report = yield* decodeOutcome(input)
          const callId = report.callSerialNo === undefined ? undefined : `serial:${report.callSerialNo}`
          if (report.stateCode !== undefined) {
            const table = tables[report.provider]
            if (table === undefined) return yield* issue("stateCode", `${report.provider} has no hang-up code table; send q850 instead`)
            const outcomeClass = table(report.stateCode)
            yield* record(report, outcomeClass, `stateCode:${report.stateCode}`, callId)
            return { outcomeClass, marksX: marksX(outcomeClass), pending: false }
          }
          if (report.q850 !== undefined) {
            const outcomeClass = classifyQ850(report.q850)
            yield* record(report, outcomeClass, `q850:${report.q850}`, callId)
            return { outcomeClass, marksX: marksX(outcomeClass), pending: false }
          }
          if (report.callSerialNo !== undefined) {
            if (source === undefined) {
              return yield* issue("callSerialNo", "no call-state source (Huawei CEC) is configured to look this call up; send q850 or stateCode")
            }
            yield* Effect.forkIn(follow(report, report.callSerialNo, source), scope)
            return { outcomeClass: null, marksX: false, pending: true }
          }
          return yield* issue("", "say how the call ended: q850, stateCode, or callSerialNo (with Huawei CEC configured)")
        })
    })
  })
)

/** Reports how a decided call ended (the Effect API). */
export const reportOutcome = (input: OutcomeReportInput | unknown): Effect.Effect<OutcomeReceipt, InvalidOutcome, Outcomes> =>
  Effect.flatMap(Outcomes, (outcomes) => outcomes.report(input))
