/**
 * A worker process for one contender (see jobs.ts): builds the contender from BENCH_JOB, then runs a
 * measurement for each `{ measure }` message and answers with its result over IPC, until `{ close }`.
 * One worker serves every round of its contender, so rounds of different contenders can take turns
 * in short blocks while each stays warm.
 */
import type { StatsView } from "../src/emulator/aliyun/index.ts"
import { makeContender } from "./contenders.ts"
import { closedLoop } from "./driver.ts"
import type { Job, JobResult, Measure, WorkerRequest } from "./jobs.ts"

process.on("disconnect", () => process.exit(1))
const job = JSON.parse(process.env["BENCH_JOB"] ?? "null") as Job
const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()))

const control = async (method: string, path: string): Promise<unknown> => {
  const res = await fetch(`${job.endpoint}/_emulator${path}`, { method, signal: AbortSignal.timeout(5000) })
  return res.json()
}

const failed = async (e: unknown) => {
  await send({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) })
  process.exit(0)
}

try {
  const contender = await makeContender(job.contender, job.endpoint, { strict: job.strict, ...(job.settings ? { settings: job.settings } : {}) })

  const measure = async (m: Measure): Promise<JobResult> => {
    const outcomes = new Map<string, number>()
    const r = await closedLoop(async (w) => {
      const label = await contender.call(job.targets[w % job.targets.length]!)
      if (label !== undefined) outcomes.set(label, (outcomes.get(label) ?? 0) + 1)
    }, {
      concurrency: job.concurrency,
      durationMs: m.durationMs,
      warmupMs: m.warmupMs,
      maxCount: job.maxCount,
      beforeMeasure: async () => {
        outcomes.clear()
        await control("POST", "/stats/reset")
      },
      onTick: (phase, done, elapsedMs) => void send({ tick: { phase, done, elapsedMs } })
    })
    const stats = (await control("GET", "/stats")) as StatsView
    let overLimit = 0
    if (job.limitMs !== undefined) for (const ms of r.latencies) if (ms > job.limitMs) overLimit++
    const codes: Record<string, number> = {}
    for (const a of Object.values(stats.actions)) for (const [code, n] of Object.entries(a.codes)) codes[code] = (codes[code] ?? 0) + n
    return {
      contender: contender.name, count: r.count, errors: r.errors, firstError: r.firstError, elapsedMs: r.elapsedMs,
      throughput: r.throughput, latency: r.latency, cpuMicrosPerOp: r.cpuMicrosPerOp, outcomes: Object.fromEntries(outcomes), overLimit,
      ...(job.returnLatencies === true ? { latencies: Array.from(r.latencies, (ms) => Math.round(ms * 1000) / 1000) } : {}),
      emulator: {
        requests: stats.totalRequests,
        cpuMicrosPerRequest: stats.totalRequests === 0 ? 0 : (stats.cpu.userMicros + stats.cpu.systemMicros) / stats.totalRequests,
        codes
      }
    }
  }

  process.on("message", (m: WorkerRequest) => {
    if ("measure" in m) measure(m.measure).then((result) => send({ result }), failed)
    else contender.close().then(() => process.exit(0), failed)
  })
  await send({ ready: true })
} catch (e) {
  await failed(e)
}
