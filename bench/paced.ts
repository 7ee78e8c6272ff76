/**
 * Open-loop load on precall library instances, each in its own worker process (bench/paced-worker.ts),
 * started together: every worker warms up, says it is ready, and all begin at one common instant t0.
 * Used by the scale-out scenarios, where what matters is what a fixed offered load does (how many
 * calls reach the provider per second, how long a decision takes), not how fast a closed loop spins.
 */
import { fork } from "node:child_process"
import type { DecideRequestInput, SettingsInput } from "../src/index.ts"
import type { Summary } from "./driver.ts"
import { summarize } from "./driver.ts"

export interface PacedJob {
  readonly name: string
  /** Settings of this instance, `aliyunEndpoint` included (the library's names; `redisUrl` is PRECALL_REDIS_URL). */
  readonly settings: SettingsInput
  /** Sent in turn. */
  readonly requests: ReadonlyArray<DecideRequestInput>
  /** Give request k the caller number 13 + (callerBase + k), 9 digits: no two requests identical. */
  readonly uniqueCallers?: boolean
  readonly callerBase: number
  readonly ratePerSecond: number
  readonly durationMs: number
  /** This worker's requests are sent at t0 + offsetMs + k · 1000/rate. */
  readonly offsetMs: number
  /** Sequential decisions before `ready`, not measured. */
  readonly warmup: number
  /** Record the breaker's state transitions (polled every 5 ms). */
  readonly watchBreaker?: boolean
}

export interface RedisSeen {
  readonly configured: boolean
  readonly up: boolean
  readonly lastError?: string
}

export interface PacedRow {
  /** When the decision was asked for, ms after t0. */
  readonly atMs: number
  /** Wall time of `decide`, ms. */
  readonly ms: number
  readonly decision: string
  readonly source: string
  readonly code: string | null
  readonly attempts: number
  /** Local.RateLimited only: how often the limit was halved after throttling replies (absent: not slowed down). */
  readonly halvings?: number
}

export interface PacedResult {
  readonly name: string
  readonly scheduled: number
  readonly rows: ReadonlyArray<PacedRow>
  /** Decisions still running 5 s past the deadline after the last was sent (should be 0). */
  readonly unfinished: number
  readonly errors: number
  readonly firstError?: string
  /** Latest a request was sent after its due time, ms (event-loop lag of the load itself). */
  readonly maxLagMs: number
  readonly t0: number
  /** Redis as the instance saw it at the end. */
  readonly redis: RedisSeen
  /** Whether Redis was in use, at t0 and at every change during the load (polled every 5 ms). */
  readonly redisStates: ReadonlyArray<{ readonly atMs: number; readonly up: boolean }>
  readonly breakerStates: ReadonlyArray<{ readonly atMs: number; readonly state: string }>
}

export type PacedMessage =
  | { readonly ready: { readonly redis: RedisSeen } }
  | { readonly result: PacedResult }
  | { readonly error: string }

export interface PacedWorker {
  readonly ready: { readonly redis: RedisSeen }
  /** Starts the load at epoch ms `t0`; resolves with the worker's result. */
  readonly run: (t0: number) => Promise<PacedResult>
  readonly kill: () => void
}

/** Forks a worker and waits (at most 60 s) until it has warmed up. */
export const startPaced = (job: PacedJob): Promise<PacedWorker> =>
  new Promise((resolveReady, rejectReady) => {
    const proc = fork(new URL("./paced-worker.ts", import.meta.url).pathname, [], {
      env: { ...process.env, BENCH_PACED: JSON.stringify(job) },
      stdio: ["ignore", "ignore", "pipe", "ipc"]
    })
    let stderr = ""
    proc.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-2000)))
    let onResult: ((r: PacedResult) => void) | undefined
    let onFailure: ((e: Error) => void) | undefined
    let isReady = false
    const fail = (e: Error) => (isReady ? onFailure?.(e) : rejectReady(e))
    const readyTimer = setTimeout(() => {
      proc.kill("SIGKILL")
      rejectReady(new Error(`${job.name}: not ready within 60 s`))
    }, 60_000)
    proc.on("message", (m: PacedMessage) => {
      if ("ready" in m) {
        isReady = true
        clearTimeout(readyTimer)
        resolveReady({
          ready: m.ready,
          run: (t0) =>
            new Promise<PacedResult>((resolve, reject) => {
              // Bounded: the load, then its last decisions' deadline and the capped wait, then slack.
              const timer = setTimeout(() => {
                proc.kill("SIGKILL")
                reject(new Error(`${job.name}: no result in time`))
              }, Math.max(0, t0 - Date.now()) + job.durationMs + 30_000)
              onResult = (r) => (clearTimeout(timer), resolve(r))
              onFailure = (e) => (clearTimeout(timer), reject(e))
              proc.send({ go: t0 })
            }),
          kill: () => void proc.kill("SIGKILL")
        })
      } else if ("result" in m) onResult?.(m.result)
      else fail(new Error(`${job.name}: ${m.error}`))
    })
    proc.on("exit", (code) => {
      clearTimeout(readyTimer)
      fail(new Error(`${job.name}: worker exited with ${code}: ${stderr.trim().slice(-800)}`))
    })
  })

/** Starts every job, waits until all are warm, then runs them together from the next whole second at least 500 ms away. */
export const runPacedTogether = async (jobs: ReadonlyArray<PacedJob>, beforeGo?: () => Promise<void>): Promise<Array<PacedResult>> => {
  const workers: Array<PacedWorker> = []
  try {
    for (const job of jobs) workers.push(await startPaced(job))
    if (beforeGo !== undefined) await beforeGo()
    const t0 = Math.ceil((Date.now() + 500) / 1000) * 1000
    return await Promise.all(workers.map((w) => w.run(t0)))
  } catch (e) {
    for (const w of workers) w.kill()
    throw e
  }
}

/** Latency summary of some rows. */
export const latencyOf = (rows: ReadonlyArray<PacedRow>): Summary => summarize(Float64Array.from(rows, (r) => r.ms))

/**
 * Degraded rows by `providerCode` (`(none)` when a degraded decision carries no code); Local.RateLimited
 * under a limit halved after throttling replies counts apart, as `Local.RateLimited (halved Nx)`.
 */
export const degradedCodes = (rows: ReadonlyArray<PacedRow>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const r of rows) {
    if (r.source !== "degraded") continue
    const k = `${r.code ?? "(none)"}${r.halvings === undefined ? "" : ` (halved ${r.halvings}x)`}`
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}
