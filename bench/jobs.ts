/**
 * Each contender runs in a worker process of its own (bench/worker.ts), so process.cpuUsage() there
 * counts only its own work: one measurement in a fresh worker (`runJob`), or several in turn
 * (`startWorker`).
 */
import { fork } from "node:child_process"
import type { SoakResult } from "./soak.ts"
import type { SettingsInput } from "../src/index.ts"
import type { ContenderName, Target } from "./contenders.ts"
import type { Summary } from "./driver.ts"
import type { Progress } from "./progress.ts"

export interface Job {
  readonly contender: ContenderName
  /** The emulator's URL. */
  readonly endpoint: string
  readonly targets: ReadonlyArray<Target>
  readonly concurrency: number
  readonly durationMs: number
  readonly warmupMs: number
  readonly maxCount: number
  /** Only a status-1 answer (precall: `use-x` from the provider) counts as a success. */
  readonly strict: boolean
  readonly settings?: SettingsInput
  /** Operations slower than this (ms) are counted in `overLimit`. */
  readonly limitMs?: number
  /** Send every latency back (to merge rounds). */
  readonly returnLatencies?: boolean
}

export interface JobResult {
  readonly contender: string
  readonly count: number
  readonly errors: number
  readonly firstError: string | undefined
  readonly elapsedMs: number
  readonly throughput: number
  readonly latency: Summary
  readonly cpuMicrosPerOp: number
  /** Resolved outcomes by label (precall: `decision/source`). */
  readonly outcomes: Readonly<Record<string, number>>
  readonly overLimit: number
  /** Every measured latency (ms), when the job asked for them. */
  readonly latencies?: ReadonlyArray<number>
  /** The emulator over the measured phase. */
  readonly emulator: {
    readonly requests: number
    readonly cpuMicrosPerRequest: number
    readonly codes: Readonly<Record<string, number>>
  }
}

/** One measurement of a worker's contender: a warm-up, then `durationMs` measured. */
export interface Measure {
  readonly durationMs: number
  readonly warmupMs: number
}

export type WorkerRequest = { readonly measure: Measure } | { readonly close: true }

type WorkerMessage =
  | { readonly ready: true }
  | { readonly tick: { readonly phase: string; readonly done: number; readonly elapsedMs: number } }
  | { readonly result: JobResult }
  | { readonly error: string }

/** A worker process holding one contender (bench/worker.ts): measured as often as asked, then closed. */
export interface Worker {
  readonly measure: (m: Measure, progress: Progress) => Promise<JobResult>
  readonly close: () => Promise<void>
}

/** Starts a worker for `job`'s contender and waits until the contender is built. Bounded: a worker that does not answer in time is killed. */
export const startWorker = (job: Job): Promise<Worker> =>
  new Promise((resolveStart, rejectStart) => {
    const proc = fork(new URL("./worker.ts", import.meta.url).pathname, [], {
      env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    /** What the next message settles: the start, then each measurement in turn. */
    let pending: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; progress?: Progress } | undefined
    let exited: Error | undefined
    const expect = (withinMs: number, what: string, progress?: Progress) =>
      new Promise<WorkerMessage>((resolve, reject) => {
        if (exited !== undefined) return reject(exited)
        const timer = setTimeout(() => {
          proc.kill("SIGKILL")
          reject(new Error(`${job.contender}: worker did not ${what} in time`))
        }, withinMs)
        pending = { resolve, reject, timer, ...(progress === undefined ? {} : { progress }) }
      })
    const settle = (f: (p: NonNullable<typeof pending>) => void) => {
      const p = pending
      if (p === undefined) return
      pending = undefined
      clearTimeout(p.timer)
      f(p)
    }
    proc.on("message", (m: WorkerMessage) => {
      if ("tick" in m) {
        pending?.progress?.tick(`${m.tick.phase} ${(m.tick.elapsedMs / 1000).toFixed(1)} s, ${m.tick.done} ops, ${Math.round(m.tick.done / (m.tick.elapsedMs / 1000))}/s`)
      } else if ("error" in m) settle((p) => p.reject(new Error(`${job.contender}: ${m.error}`)))
      else settle((p) => p.resolve(m))
    })
    proc.on("exit", (code) => {
      exited = new Error(`${job.contender}: worker exited with ${code}`)
      settle((p) => p.reject(exited!))
    })
    const closed = new Promise<void>((resolve) => proc.once("exit", () => resolve()))
    const worker: Worker = {
      measure: async (m, progress) => {
        const answer = expect(m.warmupMs + m.durationMs + 60_000, "finish a measurement", progress)
        proc.send({ measure: m } satisfies WorkerRequest)
        const reply = await answer
        if (!("result" in reply)) throw new Error(`${job.contender}: unexpected worker message`)
        return reply.result
      },
      close: async () => {
        if (exited === undefined) proc.send({ close: true } satisfies WorkerRequest)
        const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000)
        await closed
        clearTimeout(timer)
      }
    }
    expect(60_000, "start").then(() => resolveStart(worker), rejectStart)
  })

/** One measurement in a fresh worker: every contender starts from the same cold state (JIT, heap, sockets). */
export const runJob = async (job: Job, progress: Progress): Promise<JobResult> => {
  const worker = await startWorker(job)
  try {
    return await worker.measure({ durationMs: job.durationMs, warmupMs: job.warmupMs }, progress)
  } finally {
    await worker.close()
  }
}

export interface MicroRow {
  readonly piece: string
  /** Minimum over the rounds: the least disturbed one. */
  readonly microsPerOp: number
  readonly microsPerRound: ReadonlyArray<number>
}

/** Runs the pieces in a child process (so a failure there costs only this section). */
export const runMicroProcess = (o: { readonly n: number; readonly rounds: number }, onPiece: (piece: string) => void): Promise<Array<MicroRow>> =>
  new Promise((resolve, reject) => {
    const proc = fork(new URL("./micro.ts", import.meta.url).pathname, [], { env: { ...process.env, BENCH_MICRO: JSON.stringify(o) }, stdio: ["ignore", "inherit", "pipe", "ipc"] })
    let stderr = ""
    proc.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-2000)))
    const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000)
    proc.on("message", (m: { piece?: string; rows?: Array<MicroRow> }) => {
      if (m.piece !== undefined) onPiece(m.piece)
      if (m.rows !== undefined) {
        clearTimeout(timer)
        resolve(m.rows)
      }
    })
    proc.on("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`bench/micro.ts exited with ${code}: ${stderr.trim()}`))
    })
  })

export interface SoakOptions {
  readonly decisions: number
  readonly warmup: number
  readonly concurrency: number
}

/**
 * bench/soak.ts in a child process with --expose-gc (its heap readings follow a forced GC), killed
 * after 15 minutes at most.
 */
export const runSoakProcess = (o: SoakOptions): Promise<SoakResult> =>
  new Promise((resolve, reject) => {
    const proc = fork(new URL("./soak.ts", import.meta.url).pathname, [], {
      env: { ...process.env, BENCH_SOAK: JSON.stringify(o) }, execArgv: [...process.execArgv, "--expose-gc"], stdio: ["ignore", "pipe", "pipe", "ipc"]
    })
    let stdout = ""
    let stderr = ""
    proc.stdout?.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    proc.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-2000)))
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15 * 60_000)
    proc.on("exit", (code) => {
      clearTimeout(timer)
      if (code === 0) {
        try {
          return resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as SoakResult)
        } catch {
          // falls through to the rejection below
        }
      }
      reject(new Error(`bench/soak.ts exited with ${code}: ${stderr.trim()}`))
    })
  })
