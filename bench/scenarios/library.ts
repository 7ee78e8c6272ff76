/**
 * Scenario (a): the library's live decisions against the floor (bare undici, same V3 signing, no
 * policy) and against Aliyun's pop-core client, and the same decisions with production settings
 * switched on and idle, at several concurrencies, closed loop. All of them run
 * against one emulator process in no-signature-check mode, each in a worker process of its own. The
 * contenders take turns in short blocks (A B C D, then D C B A, ...), so that this VM's speed, which
 * drifts by tens of percent over tens of seconds, falls on all of them alike; the blocks of a
 * contender are merged. Each contender's rounds at one concurrency are spread over `workerSets`
 * processes in turn, since a process also keeps a speed of its own for its whole life (the same
 * code 20-30 % apart from one process to the next): one process per contender made a ratio hang
 * on one draw.
 */
import type { ContenderName, Target } from "../contenders.ts"
import { summarize } from "../driver.ts"
import { type JobResult, startWorker } from "../jobs.ts"
import type { Progress } from "../progress.ts"

export const LIBRARY_CONTENDERS: ReadonlyArray<ContenderName> = ["floor", "pop-core", "precall", "precall-production"]

export interface LibraryOptions {
  readonly concurrencies: ReadonlyArray<number>
  /** Measured time per contender and round (one block). */
  readonly durationMs: number
  /** Warm-up of a contender's first block (its worker is new). */
  readonly warmupMs: number
  /** Warm-up before each later block: its connections may have gone idle while the others ran. */
  readonly blockWarmupMs: number
  readonly rounds: number
  /**
   * Fresh workers per concurrency: every contender's rounds are split evenly over this many worker
   * processes, started (and warmed up for `warmupMs`) one set after another. Divides `rounds`.
   */
  readonly workerSets: number
}

/** Far above any contender's rate over one block: the cap only bounds the latency buffer. */
const MAX_OPS_PER_BLOCK = 400_000

export interface LibraryRow {
  readonly name: ContenderName
  readonly concurrency: number
  readonly count: number
  readonly errors: number
  readonly firstError: string | undefined
  readonly throughput: number
  readonly p50: number
  readonly p99: number
  readonly cpuMicrosPerOp: number
  readonly emulatorCpuMicrosPerRequest: number
  /** Emulator requests per operation: 1 when every decision made exactly one live provider call. */
  readonly providerCallsPerOp: number
  /** Throughput of each round, to show the spread. */
  readonly roundThroughputs: ReadonlyArray<number>
}

export const librarySteps = (o: LibraryOptions): number => o.concurrencies.length * LIBRARY_CONTENDERS.length * o.rounds

/** One line for the progress display. */
export const describe = (r: JobResult): string =>
  `${r.throughput.toFixed(0)}/s, p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms, ` +
  `${r.cpuMicrosPerOp.toFixed(0)} µs CPU/op, emulator ${r.emulator.cpuMicrosPerRequest.toFixed(0)} µs/req` +
  (r.errors > 0 ? `, ${r.errors} ERRORS (${r.firstError})` : "")

const merge = (name: ContenderName, concurrency: number, rounds: ReadonlyArray<JobResult>): LibraryRow => {
  const sum = (f: (r: JobResult) => number) => rounds.reduce((a, r) => a + f(r), 0)
  const count = sum((r) => r.count)
  const emulatorRequests = sum((r) => r.emulator.requests)
  const latency = summarize(Float64Array.from(rounds.flatMap((r) => r.latencies ?? [])))
  return {
    name, concurrency, count, errors: sum((r) => r.errors), firstError: rounds.find((r) => r.firstError !== undefined)?.firstError,
    throughput: count / (sum((r) => r.elapsedMs) / 1000), p50: latency.p50, p99: latency.p99,
    cpuMicrosPerOp: count === 0 ? 0 : sum((r) => r.cpuMicrosPerOp * r.count) / count,
    emulatorCpuMicrosPerRequest: emulatorRequests === 0 ? 0 : sum((r) => r.emulator.cpuMicrosPerRequest * r.emulator.requests) / emulatorRequests,
    providerCallsPerOp: count === 0 ? 0 : emulatorRequests / count,
    roundThroughputs: rounds.map((r) => r.throughput)
  }
}

export const runLibrary = async (endpoint: string, targets: ReadonlyArray<Target>, o: LibraryOptions, progress: Progress): Promise<Array<LibraryRow>> => {
  if (o.workerSets < 1 || o.rounds % o.workerSets !== 0) throw new Error(`library: ${o.rounds} rounds do not split over ${o.workerSets} worker sets`)
  const roundsPerSet = o.rounds / o.workerSets
  const rows: Array<LibraryRow> = []
  for (const concurrency of o.concurrencies) {
    const results = new Map<ContenderName, Array<JobResult>>(LIBRARY_CONTENDERS.map((n) => [n, []]))
    for (let set = 0; set < o.workerSets; set++) {
      const workers = await Promise.all(LIBRARY_CONTENDERS.map((contender) =>
        startWorker({
          contender, endpoint, targets, concurrency, durationMs: o.durationMs, warmupMs: o.warmupMs, maxCount: MAX_OPS_PER_BLOCK,
          strict: true, returnLatencies: true
        })))
      try {
        for (let inSet = 0; inSet < roundsPerSet; inSet++) {
          const round = set * roundsPerSet + inSet
          const order = round % 2 === 0 ? LIBRARY_CONTENDERS.map((_, i) => i) : LIBRARY_CONTENDERS.map((_, i) => LIBRARY_CONTENDERS.length - 1 - i)
          for (const i of order) {
            const name = LIBRARY_CONTENDERS[i]!
            progress.step(`library: ${name} at concurrency ${concurrency}${o.rounds > 1 ? `, round ${round + 1}/${o.rounds}` : ""}`)
            const r = await workers[i]!.measure({ durationMs: o.durationMs, warmupMs: inSet === 0 ? o.warmupMs : o.blockWarmupMs }, progress)
            results.get(name)!.push(r)
            progress.done(describe(r))
          }
        }
      } finally {
        await Promise.all(workers.map((w) => w.close()))
      }
    }
    for (const name of LIBRARY_CONTENDERS) rows.push(merge(name, concurrency, results.get(name)!))
  }
  return rows
}
