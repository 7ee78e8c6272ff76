/**
 * Huawei privacy-call hang-up codes (`stateCode` of a disconnect event, `ulFailReason` of a CDR;
 * shared/providers/huawei.md §4.4) in outcome classes, so Huawei pushes and outcome reports feed X
 * health. Only the X-number codes count against an X; callee codes never do (§6 rule 7), and the
 * control and platform codes of §6 rule 8 are transient.
 */
import type { OutcomeClass } from "../../evidence/classes.ts"

const range = (from: number, to: number): Array<number> => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const byClass: ReadonlyArray<readonly [OutcomeClass, ReadonlyArray<number>]> = [
  ["normal", [0]],
  // 8025 X does not exist (AXE), 8055 X has no call/SMS right
  ["number", [8025, 8055]],
  // rejected, refused, no connect, number does not exist, no answer, busy, unreachable, off, suspended
  ["callee", [7503, 7504, 8035, 8100, 8101, 8102, 8103, 8104, 8105]],
  // platform (no voice ports, internal) and the frequency controls rule 8 names
  ["transient", [522, 8007, 8008, 8015, 8041, 7102, 8011, 8020, 8040, 7109, ...range(7001, 7005)]]
]

const table = new Map<number, OutcomeClass>(byClass.flatMap(([c, codes]) => codes.map((code) => [code, c] as const)))

/**
 * The class of a hang-up code. Binding (8013, 8014, 8016, ...), caller, tenant and the remaining
 * control codes are `other`: they say nothing about the X's health (the binding ones reach the
 * engine as the binding's last call instead).
 */
export const classifyHuaweiStateCode = (stateCode: number): OutcomeClass => table.get(stateCode) ?? "other"
