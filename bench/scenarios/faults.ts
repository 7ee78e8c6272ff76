/**
 * Scenario (c): precall's decisions while QueryCallStatus misbehaves: 10 % Throttling.User, 5 % hang
 * (no answer ever), 5 % HTTP 503. Measures the wall time of every decision against the deadline
 * (plus a stated tolerance), the decision mix and p99. Closed loop, in a fresh worker process.
 */
import { defaults, type SettingsInput } from "../../src/index.ts"
import type { FaultSpec } from "../../src/emulator/aliyun/index.ts"
import type { Target } from "../contenders.ts"
import type { EmulatorProcess } from "../emulator.ts"
import { runJob } from "../jobs.ts"
import type { Progress } from "../progress.ts"

/** Scheduling slack allowed past the deadline on this loaded 2-core machine. */
export const DEADLINE_TOLERANCE_MS = 50

/**
 * The emulator draws `hang` first, then one draw across `errors`; rates of the errors are scaled by
 * 1 / (1 - 0.05) so that 10 % and 5 % are shares of all requests, not of those that did not hang.
 */
export const FAULTS: FaultSpec = {
  hang: { rate: 0.05 },
  errors: [
    { code: "Throttling.User", rate: 0.1 / 0.95 },
    { code: "ServiceUnavailable", rate: 0.05 / 0.95, httpStatus: 503 }
  ]
}

export interface FaultsResult {
  readonly concurrency: number
  readonly settings: { readonly deadlineMs: number; readonly attemptTimeoutMs: number; readonly maxAttempts: number; readonly retryBaseMs: number }
  readonly toleranceMs: number
  readonly decisions: number
  readonly insideDeadline: number
  readonly shareInsideDeadline: number
  /** Decisions that took longer than the deadline itself, tolerance not counted. */
  readonly overDeadlineStrict: number
  readonly throughput: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** Decisions by `decision/source`. */
  readonly mix: Readonly<Record<string, number>>
  /** Provider calls per decision, retries included. */
  readonly providerCallsPerDecision: number
  /** What the emulator answered over the run, by code (`(hang)` included). */
  readonly emulatorCodes: Readonly<Record<string, number>>
  readonly errors: number
}

export const runFaults = async (
  emulator: EmulatorProcess,
  targets: ReadonlyArray<Target>,
  o: { readonly concurrency: number; readonly durationMs: number; readonly warmupMs: number },
  progress: Progress
): Promise<FaultsResult> => {
  const settings = { deadlineMs: defaults.deadlineMs, attemptTimeoutMs: defaults.attemptTimeoutMs, maxAttempts: defaults.maxAttempts, retryBaseMs: defaults.retryBaseMs }
  const limitMs = settings.deadlineMs + DEADLINE_TOLERANCE_MS
  progress.step(`faults: precall at concurrency ${o.concurrency}, QueryCallStatus 10 % throttled, 5 % hanging, 5 % HTTP 503`)
  await emulator.setFault("QueryCallStatus", FAULTS)
  try {
    const r = await runJob({
      contender: "precall", endpoint: emulator.url, targets, ...o, maxCount: 1_000_000, strict: false,
      settings: settings satisfies SettingsInput, limitMs, returnLatencies: true
    }, progress)
    const overDeadlineStrict = (r.latencies ?? []).filter((ms) => ms > settings.deadlineMs).length
    const result: FaultsResult = {
      concurrency: o.concurrency, settings, toleranceMs: DEADLINE_TOLERANCE_MS, decisions: r.count,
      insideDeadline: r.count - r.overLimit, shareInsideDeadline: r.count === 0 ? 0 : (r.count - r.overLimit) / r.count, overDeadlineStrict,
      throughput: r.throughput, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, mix: r.outcomes,
      providerCallsPerDecision: r.count === 0 ? 0 : r.emulator.requests / r.count, emulatorCodes: r.emulator.codes, errors: r.errors
    }
    progress.done(
      `${(100 * result.shareInsideDeadline).toFixed(2)} % inside ${limitMs} ms, p99 ${result.p99.toFixed(0)} ms, max ${result.max.toFixed(0)} ms, ` +
        Object.entries(result.mix).map(([k, n]) => `${k} ${n}`).join(", ")
    )
    return result
  } finally {
    await emulator.clearFaults()
  }
}
