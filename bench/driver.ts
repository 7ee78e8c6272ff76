/**
 * Closed-loop load: N workers, each issuing its next request as soon as the previous one is done,
 * for a fixed time or count, whichever comes first. Latency is wall time per operation; CPU is this
 * process's process.cpuUsage() over the measured phase, divided by the operations done.
 */
import { performance } from "node:perf_hooks"

export interface LoopOptions {
  readonly concurrency: number
  /** Measured phase; the loop stops by itself after this long ... */
  readonly durationMs: number
  /** ... or after this many operations. */
  readonly maxCount: number
  /** Unmeasured phase before, same load (JIT, connection pools). */
  readonly warmupMs: number
  /** Awaited between warm-up and the measured phase (e.g. to reset the emulator's stats). */
  readonly beforeMeasure?: () => Promise<void>
  /** Called about twice a second with the operations done so far in the current phase. */
  readonly onTick?: (phase: "warm-up" | "measure", done: number, elapsedMs: number) => void
}

export interface Summary {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export interface LoopResult {
  readonly count: number
  readonly errors: number
  readonly firstError: string | undefined
  readonly elapsedMs: number
  /** Operations per second over the measured phase. */
  readonly throughput: number
  /** Wall time per operation, ms. */
  readonly latency: Summary
  /** Every measured latency, ms, in completion order. */
  readonly latencies: Float64Array
  /** CPU time of this process per operation, µs (user + system). */
  readonly cpuMicrosPerOp: number
}

/** Nearest-rank percentiles of a sample (ms). */
export const summarize = (sample: Float64Array): Summary => {
  if (sample.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }
  const sorted = Float64Array.from(sample).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
  let sum = 0
  for (const v of sorted) sum += v
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length }
}

const phase = async (
  op: (worker: number) => Promise<unknown>,
  concurrency: number,
  durationMs: number,
  maxCount: number,
  onTick: ((done: number, elapsedMs: number) => void) | undefined,
  latencies: Float64Array | undefined
) => {
  let started = 0
  let done = 0
  let errors = 0
  let firstError: string | undefined
  let stop = false
  const t0 = performance.now()
  const timer = setTimeout(() => (stop = true), durationMs)
  const ticker = onTick === undefined ? undefined : setInterval(() => onTick(done, performance.now() - t0), 500)
  const worker = async (w: number) => {
    while (!stop && started < maxCount) {
      started++
      const s = performance.now()
      try {
        await op(w)
      } catch (e) {
        errors++
        firstError ??= e instanceof Error ? e.message : String(e)
      }
      if (latencies !== undefined) latencies[done] = performance.now() - s
      done++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)))
  clearTimeout(timer)
  if (ticker !== undefined) clearInterval(ticker)
  return { count: done, errors, firstError, elapsedMs: performance.now() - t0 }
}

export const closedLoop = async (op: (worker: number) => Promise<unknown>, o: LoopOptions): Promise<LoopResult> => {
  if (o.warmupMs > 0) await phase(op, o.concurrency, o.warmupMs, o.maxCount, o.onTick && ((d, e) => o.onTick!("warm-up", d, e)), undefined)
  if (o.beforeMeasure !== undefined) await o.beforeMeasure()
  const latencies = new Float64Array(o.maxCount)
  const cpu0 = process.cpuUsage()
  const r = await phase(op, o.concurrency, o.durationMs, o.maxCount, o.onTick && ((d, e) => o.onTick!("measure", d, e)), latencies)
  const cpu = process.cpuUsage(cpu0)
  const measured = latencies.subarray(0, r.count)
  return {
    ...r,
    throughput: r.count / (r.elapsedMs / 1000),
    latency: summarize(measured),
    latencies: measured,
    cpuMicrosPerOp: r.count === 0 ? 0 : (cpu.user + cpu.system) / r.count
  }
}
