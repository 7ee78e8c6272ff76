/**
 * Where precall's cost per decision goes: the same QueryCallStatus through successively more of
 * precall's stack (see contenders.ts), each rung measured like scenario (a). The CPU µs a rung adds
 * over the one before is the cost of the layer added.
 */
import type { ContenderName, Target } from "../contenders.ts"
import { type JobResult, runJob } from "../jobs.ts"
import type { Progress } from "../progress.ts"
import { describe } from "./library.ts"

export const BREAKDOWN_RUNGS: ReadonlyArray<{ readonly name: ContenderName; readonly adds: string }> = [
  { name: "floor", adds: "bare undici request, V3 signed with src/providers/aliyun/signature.ts" },
  { name: "effect-http", adds: "effect HttpClient over undici (NodeHttpClient.layerUndici), run with ManagedRuntime.runPromise" },
  { name: "rpc", adds: "src/providers/aliyun/client.ts: its request building/signing and interpretReply" },
  { name: "provider", adds: "src/providers/aliyun/dypls.ts + provider.ts: Schema decode of the reply, status mapping" },
  { name: "engine-core", adds: "src/engine/Engine.ts engine.decide (engineLayer + providerLayer): deadline, per-attempt timeout, retry schedule, metrics, pass-through guard/sharing hooks" },
  { name: "engine", adds: "PrecallLive's guardLayer (rate limits, circuit breaker) and cacheLayer (status cache lookup, coalescing), both configured but idle here" },
  { name: "precall", adds: "src/precall.ts createPrecall().decide: request decoding (Schema) and the Promise bridge" }
]

/** Not a rung: the `engine` rung again with effect's HttpClient spans off, to price the tracing alone. */
export const WHAT_IF: { readonly name: ContenderName; readonly adds: string; readonly comparedTo: ContenderName } = {
  name: "engine-untraced", comparedTo: "engine",
  adds: "what-if: the engine rung with HttpClient.TracerDisabledWhen = () => true (no client span, no b3/traceparent headers)"
}

export const breakdownSteps = (o: { readonly rounds: number }): number => (BREAKDOWN_RUNGS.length + 1) * o.rounds

export interface BreakdownRow {
  readonly name: ContenderName
  readonly adds: string
  readonly throughput: number
  /** Minimum over the rounds. */
  readonly cpuMicrosPerOp: number
  readonly cpuMicrosPerRound: ReadonlyArray<number>
  /** CPU µs per operation this rung adds over `comparedTo` (the rung before). */
  readonly addedMicros: number
  readonly comparedTo: string
  readonly p50: number
  readonly errors: number
}

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Every rung once per round, rounds in alternating order. A rung's CPU per operation is the
 * minimum over the rounds: load from outside the benchmark only ever adds CPU time (shared caches
 * and cores), so the least disturbed round is the best estimate of the rung's own cost. Throughput
 * and p50 are medians.
 */
export const runBreakdown = async (
  endpoint: string,
  targets: ReadonlyArray<Target>,
  o: { readonly concurrency: number; readonly durationMs: number; readonly warmupMs: number; readonly rounds: number },
  progress: Progress
): Promise<Array<BreakdownRow>> => {
  const rungs = [...BREAKDOWN_RUNGS, WHAT_IF]
  const results = new Map<ContenderName, Array<JobResult>>(rungs.map((r) => [r.name, []]))
  for (let round = 0; round < o.rounds; round++) {
    for (const rung of round % 2 === 0 ? rungs : [...rungs].reverse()) {
      progress.step(`breakdown: ${rung.name} at concurrency ${o.concurrency}${o.rounds > 1 ? `, round ${round + 1}/${o.rounds}` : ""}`)
      const r = await runJob({
        contender: rung.name, endpoint, targets, concurrency: o.concurrency, durationMs: o.durationMs, warmupMs: o.warmupMs,
        maxCount: 2_000_000, strict: true
      }, progress)
      results.get(rung.name)!.push(r)
      progress.done(describe(r))
    }
  }
  const rows: Array<BreakdownRow> = []
  for (const rung of rungs) {
    const rs = results.get(rung.name)!
    const cpu = Math.min(...rs.map((r) => r.cpuMicrosPerOp))
    const previous = rung === WHAT_IF ? rows.find((x) => x.name === WHAT_IF.comparedTo) : rows[rows.length - 1]
    rows.push({
      name: rung.name, adds: rung.adds, throughput: median(rs.map((r) => r.throughput)), cpuMicrosPerOp: cpu,
      cpuMicrosPerRound: rs.map((r) => r.cpuMicrosPerOp), p50: median(rs.map((r) => r.latency.p50)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      addedMicros: cpu - (previous?.cpuMicrosPerOp ?? 0), comparedTo: previous?.name ?? "nothing"
    })
  }
  return rows
}
