/**
 * `npm run bench [-- --quick] [-- --only=a,b,c,d,e,f,soak,breakdown] [-- --breakdown|--no-breakdown] [-- --out=dir]`
 *
 * Runs the scenarios against the Aliyun emulator in its own process over loopback, prints progress on
 * stderr and each target's verdict at the end, and writes bench/results/<timestamp>.{json,md,svg}.
 * See docs/performance.md.
 */
import { mkdirSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { join } from "node:path"
import { LIVE_ENV, LIVE_SETTINGS } from "./live.ts"
import { startEmulatorProcess } from "./emulator.ts"
import { runMicroProcess, runSoakProcess } from "./jobs.ts"
import { makeProgress } from "./progress.ts"
import { evaluateTargets, type Report, writeReport } from "./report.ts"
import { BENCH_REDIS_URL, deleteKeys, type KeyCleanup, redisProblem, runPrefix } from "./redis.ts"
import { makeTargets } from "./run-helpers.ts"
import { breakdownSteps, runBreakdown } from "./scenarios/breakdown.ts"
import { BREAKER_STEPS, runBreaker } from "./scenarios/breaker.ts"
import { cacheSteps, runCache } from "./scenarios/cache.ts"
import { runFaults } from "./scenarios/faults.ts"
import { librarySteps, runLibrary } from "./scenarios/library.ts"
import { runService, serviceSteps } from "./scenarios/service.ts"
import { runSharedLimit, sharedLimitSteps } from "./scenarios/shared-limit.ts"

const USAGE = `usage: npm run bench [-- --quick] [--only=a,b,c,d,e,f,soak,breakdown] [--breakdown | --no-breakdown] [--out=DIR]
  --quick          short run (about 2 minutes): 1-4 s per measurement, no breakdown
  --only=LIST      scenarios to run: a (library), b (service), c (faults), d (shared rate limit, 2 instances + Redis),
                   e (provider down, circuit breaker), f (status cache on/off, service),
                   soak (heap after 1,000,000 decisions; 100,000 with --quick), breakdown
  --breakdown      also in a quick run: where precall's CPU goes, layer by layer (default in a full run)
  --out=DIR        where to write <timestamp>.json/.md/.svg (default bench/results)
environment:
  BENCH_REDIS_URL  the Redis of d and f (default redis://127.0.0.1:6379); the run's keys go under a prefix
                   of its own (precall-bench:<time>-<pid>:) and are deleted after each scenario`

const args = process.argv.slice(2)
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const unknown = args.filter((a) => !/^--(quick|breakdown|no-breakdown|only=.+|out=.+)$/.test(a))
if (unknown.length > 0) {
  process.stderr.write(`unknown argument ${unknown.join(" ")}\n${USAGE}\n`)
  process.exit(2)
}
const quick = args.includes("--quick")
const only = args.find((a) => a.startsWith("--only="))?.slice(7).split(",")
const wants = (s: string) => only === undefined || only.includes(s)
const breakdown = only !== undefined ? only.includes("breakdown") : args.includes("--breakdown") || (!quick && !args.includes("--no-breakdown"))
const outDir = args.find((a) => a.startsWith("--out="))?.slice(6) ?? join(import.meta.dirname, "results")

const options = quick
  ? {
    library: { concurrencies: [1, 16, 64], durationMs: 500, warmupMs: 400, blockWarmupMs: 100, rounds: 2, workerSets: 1 },
    breakdown: { concurrency: 16, durationMs: 1000, warmupMs: 400, rounds: 1 },
    micro: { n: 2000, rounds: 2 },
    service: { connections: 64, durationS: 2, warmupS: 1, rounds: 1, blockWarmupS: 0, serverSets: 1 },
    faults: { concurrency: 16, durationMs: 3000, warmupMs: 500 },
    sharedLimit: { offeredPerSecond: 40, durationMs: 3000, warmup: 5 },
    breaker: { ratePerSecond: 200, durationMs: 4000, warmup: 20 },
    cache: { connections: 64, durationS: 2, warmupS: 1 },
    soak: { decisions: 100_000, warmup: 50_000, concurrency: 16 }
  }
  : {
    library: { concurrencies: [1, 16, 64], durationMs: 500, warmupMs: 2000, blockWarmupMs: 150, rounds: 16, workerSets: 8 },
    breakdown: { concurrency: 16, durationMs: 2000, warmupMs: 1000, rounds: 3 },
    micro: { n: 5000, rounds: 3 },
    service: { connections: 64, durationS: 10, warmupS: 2, rounds: 8, blockWarmupS: 0.5, serverSets: 8 },
    faults: { concurrency: 16, durationMs: 12_000, warmupMs: 1000 },
    sharedLimit: { offeredPerSecond: 40, durationMs: 5000, warmup: 5 },
    breaker: { ratePerSecond: 200, durationMs: 8000, warmup: 20 },
    cache: { connections: 64, durationS: 8, warmupS: 2 },
    soak: { decisions: 1_000_000, warmup: 100_000, concurrency: 16 }
  }

const usesRedis = wants("d") || wants("f")
const redisTrouble = usesRedis ? await redisProblem() : undefined
const prefix = runPrefix()
const redisOk = redisTrouble === undefined
const steps = (wants("a") ? librarySteps(options.library) : 0) + (breakdown ? breakdownSteps(options.breakdown) + 1 : 0) +
  (wants("b") ? serviceSteps(options.service) : 0) + (wants("c") ? 1 : 0) + (wants("d") ? sharedLimitSteps(redisOk) : 0) + (wants("e") ? BREAKER_STEPS : 0) +
  (wants("f") ? cacheSteps(redisOk) : 0) + (wants("soak") ? 1 : 0) + 1
const progress = makeProgress(steps)
if (redisTrouble !== undefined) progress.done(`scenarios d and f run without their Redis rows: ${redisTrouble}`)
const startedAt = new Date()
const loadavgStart = loadavg()

progress.step("starting the Aliyun emulator in its own process (verifySignatures: false)")
const emulator = await startEmulatorProcess({ verifySignatures: false, seed: 7 })
const stopAll = () =>
  void emulator.stop()
    .then(() => (usesRedis && redisOk ? deleteKeys(prefix) : undefined))
    .finally(() => process.exit(130))
process.once("SIGINT", stopAll)
process.once("SIGTERM", stopAll)

let report: Report
const cleanups: Array<KeyCleanup & { readonly after: string }> = []
try {
  const targets = await makeTargets(emulator, 64)
  progress.done(`${emulator.url}, ${targets.length} AXB bindings`)
  const library = wants("a") ? await runLibrary(emulator.url, targets, options.library, progress) : undefined
  const breakdownRows = breakdown ? await runBreakdown(emulator.url, targets, options.breakdown, progress) : undefined
  let micro: Report["micro"]
  let microFailed: string | undefined
  if (breakdown) {
    progress.step("breakdown: precall's pieces without the network (bench/micro.ts)")
    try {
      micro = await runMicroProcess(options.micro, (piece) => progress.tick(piece))
      progress.done(`${micro.length} pieces`)
    } catch (e) {
      microFailed = e instanceof Error ? e.message : String(e)
      progress.done(`failed: ${microFailed.slice(0, 300)}`)
    }
  }
  let service: Report["service"]
  let serviceUnavailable: string | undefined
  if (wants("b")) {
    try {
      service = await runService(emulator, targets, options.service, progress)
    } catch (e) {
      serviceUnavailable = e instanceof Error ? e.message : String(e)
      progress.done(`service not available: ${serviceUnavailable.slice(0, 300)}`)
    }
  }
  const faults = wants("c") ? await runFaults(emulator, targets, options.faults, progress) : undefined
  const failures: Record<string, string> = {}
  /** A scale-out scenario that fails costs only its own section. */
  const attempt = async <A>(name: string, f: () => Promise<A>): Promise<A | undefined> => {
    try {
      return await f()
    } catch (e) {
      failures[name] = e instanceof Error ? e.message : String(e)
      progress.done(`${name} failed: ${failures[name].slice(0, 300)}`)
      return undefined
    } finally {
      await emulator.clearFaults().catch(() => undefined)
    }
  }
  // Redis keys of the run are deleted right after each scenario that wrote some (and listed in the report).
  const clean = async (after: string) => {
    if (redisOk) cleanups.push({ after, ...(await deleteKeys(prefix)) })
  }
  const sharedLimit = wants("d") ? await attempt("d", () => runSharedLimit(emulator, targets, options.sharedLimit, prefix, redisTrouble, progress)) : undefined
  if (wants("d")) await clean("d")
  const breaker = wants("e") ? await attempt("e", () => runBreaker(emulator, targets, options.breaker, progress)) : undefined
  const cache = wants("f") ? await attempt("f", () => runCache(emulator, targets, options.cache, prefix, redisTrouble, progress)) : undefined
  if (wants("f")) await clean("f")
  let soak: Report["soak"]
  if (wants("soak")) {
    progress.step(`soak: ${options.soak.decisions} decisions through the library, heap after warm-up and after (bench/soak.ts)`)
    soak = await attempt("soak", () => runSoakProcess(options.soak))
    if (soak !== undefined) progress.done(`heap ${(soak.heapAfterWarmup / 1e6).toFixed(1)} MB → ${(soak.heapAfterSoak / 1e6).toFixed(1)} MB in ${soak.seconds.toFixed(0)} s`)
  }
  const partial = {
    startedAt: startedAt.toISOString(),
    mode: quick ? "quick" as const : "full" as const,
    command: `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadavgStart, loadavgEnd: loadavg() },
    options: { ...options, breakdownConcurrency: options.breakdown.concurrency, emulator: { verifySignatures: false, seed: 7, process: "separate" }, precallSettings: LIVE_SETTINGS, serviceEnv: LIVE_ENV },
    ...(library ? { library } : {}),
    ...(breakdownRows ? { breakdown: breakdownRows } : {}),
    ...(micro ? { micro } : {}),
    ...(microFailed ? { microFailed } : {}),
    ...(service ? { service } : {}),
    ...(serviceUnavailable ? { serviceUnavailable } : {}),
    ...(faults ? { faults } : {}),
    ...(sharedLimit ? { sharedLimit } : {}),
    ...(breaker ? { breaker } : {}),
    ...(cache ? { cache } : {}),
    ...(soak ? { soak } : {}),
    ...(Object.keys(failures).length > 0 ? { failures } : {}),
    ...(usesRedis ? { redis: { url: BENCH_REDIS_URL, prefix, ...(redisTrouble === undefined ? {} : { problem: redisTrouble }), cleanups } } : {})
  }
  report = { ...partial, finishedAt: new Date().toISOString(), targets: evaluateTargets(partial) }
} finally {
  await emulator.stop()
  // Also when a scenario threw: nothing of this run stays in Redis.
  if (usesRedis && redisOk) await deleteKeys(prefix)
}

mkdirSync(outDir, { recursive: true })
const files = writeReport(report, join(outDir, startedAt.toISOString().replace(/[:.]/g, "-")))
const lines = ["", "targets:"]
for (const t of report.targets) lines.push(`  ${t.verdict.padEnd(7)} ${t.description}: ${t.measured} (target ${t.threshold})${t.note ? `; ${t.note}` : ""}`)
lines.push("", `wrote ${files.join(", ")}`, "")
process.stdout.write(lines.join("\n"))
