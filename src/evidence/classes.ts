/**
 * How a call ended, as one class per outcome, and the provider-neutral Q.850 table for outcomes that
 * carry no provider code. X health counts only the `number` class: a failure of the X number itself.
 * Provider code tables (Huawei stateCode, CEC reasonCode) live in their provider's folder and map onto
 * the same classes.
 */
import { Schema } from "effect"

/**
 * - number: the number dialled did not work (unallocated, no route, changed, bad format): on the leg
 *   to X this is the X failing, and it counts toward the X's health
 * - callee: the person called did not take the call (busy, no answer, absent, rejected); never the X's fault
 * - transient: network or platform trouble; says nothing lasting about the X
 * - normal: the call went through, or ended normally
 * - other: policy, facility or protocol causes; not counted
 */
export const OutcomeClass = Schema.Literals(["number", "callee", "transient", "normal", "other"])
export type OutcomeClass = typeof OutcomeClass.Type

export const outcomeClasses: ReadonlyArray<OutcomeClass> = OutcomeClass.literals

/** ITU-T Q.850 causes by class (shared/providers/huawei.md §5, the same list Huawei prints); the rest are `other`. */
const q850Number = new Set([1, 3, 4, 5, 22, 28])
const q850Callee = new Set([17, 18, 19, 20, 21, 26])
const q850Transient = new Set([2, 6, 8, 9, 25, 27, 34, 38, 39, 41, 42, 44, 46, 47, 49, 58, 102])
const q850Normal = new Set([0, 7, 16, 31])

/** The class of a Q.850 cause (0-127) on the leg the caller dialled. */
export const classifyQ850 = (cause: number): OutcomeClass =>
  q850Number.has(cause)
    ? "number"
    : q850Callee.has(cause)
    ? "callee"
    : q850Transient.has(cause)
    ? "transient"
    : q850Normal.has(cause)
    ? "normal"
    : "other"

/**
 * A Q.850 cause of a *forwarded* leg (X to the real callee, e.g. a Huawei CDR's `fwdUnaswRsn`): a
 * number problem there is the real callee's number, not the X's (huawei.md §6 rule 7).
 */
export const classifyForwardedQ850 = (cause: number): OutcomeClass => {
  const c = classifyQ850(cause)
  return c === "number" ? "callee" : c
}

/** Only these classes are failures at all; `number` is the only one held against an X. */
export const marksX = (c: OutcomeClass): boolean => c === "number"
