/**
 * Scenario (e): the provider is down (every QueryCallStatus hangs: emulator `hang: { rate: 1 }`), and
 * decisions keep coming at a fixed rate (open loop, one library instance in a worker process, default
 * policy: deadline 1000 ms, attempt timeout 300 ms, 3 attempts). Side by side:
 *
 * - breaker on (defaults: opens when ≥ 50 % of the last 50 attempts failed, after at least 20; open
 *   for 5000 ms, then one half-open probe). Decision latency before it opened and once it was open,
 *   split at the first moment the worker saw it open (its state is polled every 5 ms);
 * - breaker off (`breakerOpenMs: 0`): every decision spends its attempts on the dead endpoint.
 *
 * Each request carries a caller number of its own, so no two are identical and none is coalesced with
 * another (coalescing would hand one decision to many callers and hide the waiting). The warm-up runs
 * before the fault, against the live emulator: the breaker has seen the endpoint healthy (20 successes)
 * before it goes down, as it would in production.
 *
 * Target: p99 of the decisions asked for once the breaker is open under 5 ms.
 */
import { defaults, type DecideRequestInput } from "../../src/index.ts"
import type { Target } from "../contenders.ts"
import type { Summary } from "../driver.ts"
import type { EmulatorProcess } from "../emulator.ts"
import { degradedCodes, latencyOf, type PacedResult, type PacedRow, runPacedTogether } from "../paced.ts"
import type { Progress } from "../progress.ts"

export const OPEN_P99_TARGET_MS = 5

export interface BreakerOptions {
  readonly ratePerSecond: number
  readonly durationMs: number
  readonly warmup: number
}

export interface BreakerPhase {
  readonly name: "on, before it opened" | "on, once open" | "off (breakerOpenMs 0)"
  readonly decisions: number
  readonly latency: Summary
  readonly degraded: number
  readonly circuitOpen: number
  readonly degradedReasons: Readonly<Record<string, number>>
  readonly attemptsPerDecision: number
  /** Decisions slower than the target (5 ms). */
  readonly overTarget: number
}

export interface BreakerResult {
  readonly ratePerSecond: number
  readonly durationS: number
  readonly settings: {
    readonly deadlineMs: number
    readonly attemptTimeoutMs: number
    readonly maxAttempts: number
    readonly breakerFailureRatio: number
    readonly breakerWindow: number
    readonly breakerMinimumCalls: number
    readonly breakerOpenMs: number
  }
  /** ms after the first request when the breaker was first seen open; undefined if it never opened. */
  readonly openedAtMs: number | undefined
  /** Every state change seen with the breaker on, ms after the first request. */
  readonly transitions: ReadonlyArray<{ readonly atMs: number; readonly state: string }>
  readonly phases: ReadonlyArray<BreakerPhase>
  /** Share of all decisions with the breaker on that degraded with Local.CircuitOpen. */
  readonly circuitOpenShare: number
  /** The same, among those asked for once it was open. */
  readonly circuitOpenShareOnceOpen: number
  /** Emulator requests per decision, breaker on / off. */
  readonly providerCallsPerDecision: { readonly on: number; readonly off: number }
  readonly errors: number
  readonly unfinished: number
  readonly maxLagMs: number
}

export const BREAKER_STEPS = 2

const phase = (name: BreakerPhase["name"], rows: ReadonlyArray<PacedRow>): BreakerPhase => {
  const degradedReasons = degradedCodes(rows)
  return {
    name, decisions: rows.length, latency: latencyOf(rows),
    degraded: Object.values(degradedReasons).reduce((a, b) => a + b, 0),
    circuitOpen: degradedReasons["Local.CircuitOpen"] ?? 0, degradedReasons,
    attemptsPerDecision: rows.length === 0 ? 0 : rows.reduce((a, r) => a + r.attempts, 0) / rows.length,
    overTarget: rows.filter((r) => r.ms > OPEN_P99_TARGET_MS).length
  }
}

export const describePhase = (p: BreakerPhase): string =>
  `${p.name}: ${p.decisions} decisions, p50 ${p.latency.p50.toFixed(2)} ms, p99 ${p.latency.p99.toFixed(2)} ms, max ${p.latency.max.toFixed(1)} ms, ` +
  `${p.circuitOpen} Local.CircuitOpen`

export const runBreaker = async (
  emulator: EmulatorProcess,
  targets: ReadonlyArray<Target>,
  o: BreakerOptions,
  progress: Progress
): Promise<BreakerResult> => {
  const t = targets[0]!
  const requests: Array<DecideRequestInput> = [{ poolKey: t.poolKey, subsId: t.subsId, phoneNoX: t.phoneNoX, callerNo: t.callerNo }]
  const run = async (breakerOpenMs: number, callerBase: number): Promise<{ result: PacedResult; requests: number }> => {
    await emulator.clearFaults()
    const [result] = await runPacedTogether([{
      name: `breaker-${breakerOpenMs === 0 ? "off" : "on"}`,
      settings: { aliyunEndpoint: emulator.url, breakerOpenMs, rateLimits: { QueryCallStatus: 0 } },
      requests, uniqueCallers: true, callerBase, ratePerSecond: o.ratePerSecond, durationMs: o.durationMs, offsetMs: 0,
      warmup: o.warmup, watchBreaker: breakerOpenMs > 0
    }], async () => {
      await emulator.setFault("QueryCallStatus", { hang: { rate: 1 } })
      await emulator.resetStats()
    })
    const stats = await emulator.stats()
    await emulator.clearFaults()
    return { result: result!, requests: stats.totalRequests }
  }

  progress.step(`breaker: provider hangs, ${o.ratePerSecond} decisions/s for ${o.durationMs / 1000} s, breaker on (defaults)`)
  const on = await run(defaults.breakerOpenMs, 0)
  const openedAtMs = on.result.breakerStates.find((s) => s.state === "open")?.atMs
  const before = on.result.rows.filter((r) => openedAtMs === undefined || r.atMs < openedAtMs)
  const once = openedAtMs === undefined ? [] : on.result.rows.filter((r) => r.atMs >= openedAtMs)
  const phases = [phase("on, before it opened", before), phase("on, once open", once)]
  progress.done(`opened after ${openedAtMs ?? "never"} ms; ${describePhase(phases[0]!)}; ${describePhase(phases[1]!)}`)

  progress.step(`breaker: provider hangs, ${o.ratePerSecond} decisions/s for ${o.durationMs / 1000} s, breaker off (breakerOpenMs 0)`)
  const off = await run(0, 100_000_000)
  phases.push(phase("off (breakerOpenMs 0)", off.result.rows))
  progress.done(describePhase(phases[2]!))

  const onRows = on.result.rows
  const circuitOpen = (rows: ReadonlyArray<PacedRow>) => rows.filter((r) => r.source === "degraded" && r.code === "Local.CircuitOpen").length
  return {
    ratePerSecond: o.ratePerSecond, durationS: o.durationMs / 1000,
    settings: {
      deadlineMs: defaults.deadlineMs, attemptTimeoutMs: defaults.attemptTimeoutMs, maxAttempts: defaults.maxAttempts,
      breakerFailureRatio: defaults.breakerFailureRatio, breakerWindow: defaults.breakerWindow, breakerMinimumCalls: defaults.breakerMinimumCalls,
      breakerOpenMs: defaults.breakerOpenMs
    },
    openedAtMs, transitions: on.result.breakerStates, phases,
    circuitOpenShare: onRows.length === 0 ? 0 : circuitOpen(onRows) / onRows.length,
    circuitOpenShareOnceOpen: once.length === 0 ? 0 : circuitOpen(once) / once.length,
    providerCallsPerDecision: {
      on: onRows.length === 0 ? 0 : on.requests / onRows.length,
      off: off.result.rows.length === 0 ? 0 : off.requests / off.result.rows.length
    },
    errors: on.result.errors + off.result.errors, unfinished: on.result.unfinished + off.result.unfinished,
    maxLagMs: Math.max(on.result.maxLagMs, off.result.maxLagMs)
  }
}
